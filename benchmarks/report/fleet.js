// Report sections of what the bus and the sequence cost Redis: writes of new keys, an idle
// process, fleets of 1 to 1,000 members (write-heavy.js, idle.js, fleet.js).

import { int, ms3, NOT_RUN, spread, table, x2 } from './format.js'

const fixed1 = (n) => (Number.isFinite(n) ? n.toFixed(1) : '—')

/** `hset 3.00, hget 2.00, ...`: commands per operation, largest first, the tiny ones left out. */
export function commandList(byCommand) {
  return Object.entries(byCommand ?? {})
    .filter(([, n]) => n >= 0.01)
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name} ${x2(n)}`)
    .join(', ')
}

export function writeHeavy(results) {
  const r = results['write-heavy']
  const out = ['### Write-heavy: `set` of new keys, 64 in flight (`write-heavy.js`)', '']
  if (!r) return [...out, NOT_RUN('write-heavy')]
  const m = r.method ?? {}
  out.push(
    `One process, ${m.inFlight} in flight, ${m.rounds} rounds of ${m.roundMs} ms per contestant, ${m.valueBytes}-byte JSON values, ${m.tagsPerEntry} tags; a private Redis ${r.redisVersion ?? '?'}. Ratios: median of per-round ratios (min–max); Redis figures per set, medians over rounds.`,
    '',
  )
  const rows = Object.entries(r.contestants ?? {}).map(([id, c]) => [
    c.label,
    int(c.medianOpsPerSec),
    id === 'raw' ? '1.00' : spread(r.ratios?.[`${id} / raw`]),
    x2(r.perSet?.[id]?.commands),
    fixed1(r.perSet?.[id]?.redisCpuUs),
    fixed1(r.perSet?.[id]?.processCpuUs),
  ])
  out.push(
    table(
      [
        'contestant',
        'sets/s',
        '× raw SET',
        'Redis commands per set',
        'Redis CPU µs per set',
        'process CPU µs per set',
      ],
      rows,
      ['l', 'r', 'r', 'r', 'r', 'r'],
    ),
  )
  const cg = r.perSet?.cachegraph?.byCommand
  if (cg) out.push('', `Commands Redis ran per cachegraph set (bus): ${commandList(cg)}.`)
  if (r.notStored > 0) out.push('', `${int(r.notStored)} sets resolved false (not stored).`)
  return out
}

export function idle(results) {
  const r = results.idle
  const out = ['### Idle process with a store and a bus (`idle.js`)', '']
  if (!r) return [...out, NOT_RUN('idle')]
  const m = r.method ?? {}
  const labels = {
    started: 'started, never used',
    afterUse: 'after a set, a get and an invalidate',
  }
  out.push(
    `Commands Redis executed (inside scripts included, \`INFO commandstats\`) over ${m.seconds} s, after ${m.settleSeconds} s to settle; a private Redis ${r.redisVersion ?? '?'}.`,
    '',
    table(
      ['state', 'commands/s', 'Redis CPU ms/s', 'by command (per second)'],
      Object.entries(r.states ?? {}).map(([state, x]) => [
        labels[state] ?? state,
        x2(x.commandsPerSecond),
        x2(x.redisCpuMsPerSecond),
        commandList(x.byCommandPerSecond) || '—',
      ]),
      ['l', 'r', 'r', 'l'],
    ),
  )
  return out
}

export function fleet(results) {
  const r = results.fleet
  const out = ['### Fleet size (`fleet.js`)', '']
  if (!r) return [...out, NOT_RUN('fleet')]
  const m = r.method ?? {}
  const fleets = r.fleets ?? []
  out.push(
    `Members share one private Redis ${r.redisVersion ?? '?'}; up to 64 they are real processes, past that ${m.simulatedHosts} processes hosting many caches each (every cache a member with its own bus connection). Redis figures from \`INFO commandstats\` and \`INFO cpu\`; per-call and per-set figures net of the idle background.`,
    '',
    '#### Idle and bus propagation',
    '',
    `Trusted: members whose bus trusted within 30 s of starting. Idle over ${m.idleSeconds} s, with the Redis CPU time per PUBLISH (it grows with the subscribers that hear it). Propagation: ${m.messages} \`invalidate(tag)\` one at a time from one member; ms from the call to applied (\`bus:invalidate\`) in each other member, and until every member applied.`,
    '',
    table(
      [
        'fleet',
        'trusted',
        'idle commands/s',
        'per member',
        'µs per PUBLISH',
        'applied',
        'p50 ms',
        'p99 ms',
        'max ms',
        'whole fleet p99 ms',
      ],
      fleets.map((f) => {
        const p = f.propagation
        return [
          f.label,
          `${int(f.trusted)} of ${int(f.members)}`,
          fixed1(f.idle?.commandsPerSecond),
          x2(f.idle?.perMember),
          fixed1(f.idle?.usPerCall?.publish),
          p ? `${int(p.applied)} of ${int(p.expected)}` : '—',
          ms3(p?.ms?.p50),
          ms3(p?.ms?.p99),
          ms3(p?.ms?.max),
          ms3(p?.wholeFleetMs?.p99),
        ]
      }),
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
    '',
    '#### Acknowledged invalidation',
    '',
    `\`invalidate(tag, { ack: true })\` one at a time from one member, up to ${m.acks} calls (at most 10 s)${m.latencyRounds ? `, in ${m.latencyRounds} rounds interleaved with the propagation's` : ''}.`,
    '',
    table(
      [
        'fleet',
        'calls',
        'p50 ms',
        'p99 ms',
        'Redis commands per call',
        'Redis CPU µs per call',
        'members / acked',
        'late',
      ],
      fleets.map((f) => {
        const a = f.acked ?? {}
        return [
          f.label,
          int(a.calls),
          ms3(a.ms?.p50),
          ms3(a.ms?.p99),
          fixed1(a.commandsPerCall),
          fixed1(a.redisCpuUsPerCall),
          `${int(a.members)} / ${int(a.acked)}`,
          int(a.late),
        ]
      }),
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
    '',
    '#### Sets of new keys',
    '',
    `${m.inFlight} in flight per writing process, ${m.rounds} rounds of ${m.roundMs} ms per contestant, raw ioredis \`SET\` from the same processes in the same rounds. One writer: one member writes while the others listen. Whole fleet: every process writes at once.`,
    '',
    table(
      [
        'fleet',
        'one writer sets/s',
        '× raw SET',
        'Redis CPU µs per set',
        'commands per set',
        'writer / listeners CPU µs per set',
        'whole fleet sets/s',
        '× raw SET',
        'Redis CPU µs per set',
      ],
      fleets.map((f) => {
        const one = f.writeOne
        const all = f.writeAll
        return [
          f.label,
          int(one?.setsPerSec?.cachegraph),
          spread(one?.ratio),
          fixed1(one?.perSet?.cachegraph?.redisCpuUs),
          x2(one?.perSet?.cachegraph?.commands),
          `${fixed1(one?.perSet?.cachegraph?.writersCpuUs)} / ${fixed1(one?.perSet?.cachegraph?.listenersCpuUs)}`,
          all ? int(all.setsPerSec?.cachegraph) : 'as one writer',
          all ? spread(all.ratio) : '',
          all ? fixed1(all.perSet?.cachegraph?.redisCpuUs) : '',
        ]
      }),
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  )
  if (fleets.some((f) => f.deleteOne)) {
    out.push(
      '',
      '#### Deletes of keys nobody cached',
      '',
      'One member calls `delete` on keys no entry ever carried (delete-on-write), the others listen; raw ioredis `DEL` from the same process in the same rounds.',
      '',
      table(
        [
          'fleet',
          'deletes/s',
          '× raw DEL',
          'Redis CPU µs per delete',
          'commands per delete',
          'writer / listeners CPU µs per delete',
        ],
        fleets.map((f) => {
          const d = f.deleteOne
          return [
            f.label,
            int(d?.setsPerSec?.cachegraph),
            spread(d?.ratio),
            fixed1(d?.perSet?.cachegraph?.redisCpuUs),
            x2(d?.perSet?.cachegraph?.commands),
            `${fixed1(d?.perSet?.cachegraph?.writersCpuUs)} / ${fixed1(d?.perSet?.cachegraph?.listenersCpuUs)}`,
          ]
        }),
        ['l', 'r', 'r', 'r', 'r', 'r'],
      ),
    )
  }
  for (const f of fleets.filter((f) => f.skipped)) out.push('', `${f.label}: ${f.skipped}.`)
  const notStored = fleets.reduce(
    (n, f) => n + (f.writeOne?.notStored ?? 0) + (f.writeAll?.notStored ?? 0),
    0,
  )
  if (notStored > 0) out.push('', `${int(notStored)} sets resolved false (not stored).`)
  return out
}

const TRANSPORTS = {
  publish: 'Redis PUBLISH',
  spublish: 'Redis SPUBLISH (sharded)',
  nats: 'NATS publish',
}

export function fanout(results) {
  const r = results.fanout
  const out = ['### Fan-out of one message by transport (`fanout.js`)', '']
  if (!r) return [...out, NOT_RUN('fanout')]
  const m = r.method ?? {}
  out.push(
    `${m.messages} messages per run, at most ${m.window} unanswered, until every subscriber received every one; subscribers in up to ${m.hosts} other processes; medians of ${m.rounds} rounds. Server CPU: \`INFO cpu\` of a private Redis ${r.redisVersion ?? '?'}; the NATS server's own CPU time from /proc, in 10 ms ticks${r.nats ? '' : ' (no NATS server: left out)'}.`,
    '',
    table(
      [
        'transport',
        'subscribers',
        'bytes',
        'messages/s',
        'server CPU µs per message',
        'per delivery',
      ],
      (r.results ?? []).map((x) => [
        TRANSPORTS[x.kind] ?? x.kind,
        int(x.subscribers),
        int(x.bytes),
        int(x.messagesPerSec),
        fixed1(x.serverCpuUsPerMessage),
        x2(x.serverCpuUsPerDelivery),
      ]),
      ['l', 'r', 'r', 'r', 'r', 'r'],
    ),
  )
  return out
}
