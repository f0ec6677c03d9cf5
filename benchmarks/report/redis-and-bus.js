// Report sections of the shared tier and the bus: L2 hits, bus propagation, a lost bus message,
// Redis round trips per operation.

import { int, ms3, NOT_RUN, spread, table, x2 } from './format.js'

export function l2Hit(results) {
  const r = results['l2-hit']
  const out = ['### L2 hit, Redis only, 64 in flight (`l2-hit.js`)', '']
  if (!r) return [...out, NOT_RUN('l2-hit')]
  out.push(
    `${int(r.method?.keys)} keys of ${r.method?.valueBytes} bytes, ${r.method?.inFlight} in flight, ` +
      `${r.method?.rounds} rounds; Redis ${r.redis ?? '?'}.`,
    '',
  )
  const rows = Object.entries(r.contestants ?? {}).map(([id, c]) => [
    c.label,
    int(c.medianOpsPerSec),
    id === 'raw' ? '1.00' : spread(r.ratios?.[`${id} / raw`]),
  ])
  out.push(table(['contestant', 'ops/s', '× raw (min–max)'], rows, ['l', 'r', 'r']))
  return out
}

/** Latencies by contestant, from either layout of bus-latency.json. */
export function busLatencies(r) {
  if (r.latencies) return r.latencies
  // Older files: the figures sat at the top level (and overwrote the commit).
  return Object.fromEntries(
    ['cachegraph', 'raw'].filter((k) => r[k]?.fromCallMs).map((k) => [k, r[k]]),
  )
}

export const BUS_LABELS = {
  cachegraph: 'cachegraph `invalidate(tag)`',
  raw: 'ioredis PUBLISH → SUBSCRIBE (floor)',
  'bentocache.deleteByTag': 'bentocache `deleteByTag` (L1+L2+bus)',
  'bentocache.delete': 'bentocache `delete` (L1+L2+bus)',
}

export function busPropagation(results) {
  const r = results['bus-latency']
  const out = ['### Bus propagation between two processes (`bus-latency.js`)', '']
  if (!r) return [...out, NOT_RUN('bus-latency')]
  const latencies = busLatencies(r)
  out.push(
    `${int(r.method?.messages)} messages per contestant, one at a time, interleaved in ${r.method?.rounds} rounds; ms from the call (and from its promise resolving) in the writer to applied in the reader.`,
    '',
  )
  const rows = Object.entries(latencies).map(([id, l]) => [
    BUS_LABELS[id] ?? id,
    ms3(l.fromCallMs?.p50),
    ms3(l.fromCallMs?.p99),
    ms3(l.fromCallMs?.max),
    ms3(l.fromResolveMs?.p50),
    ms3(l.fromResolveMs?.p99),
  ])
  if (!latencies['bentocache.deleteByTag'])
    rows.push(['bentocache', 'not measured in this run', '', '', '', ''])
  out.push(
    table(
      ['ms', 'p50 from call', 'p99 from call', 'max', 'p50 from resolve', 'p99 from resolve'],
      rows,
      ['l', 'r', 'r', 'r', 'r', 'r'],
    ),
  )
  return out
}

export function busGap(results) {
  const r = results['bus-gap']
  const out = ['### A lost bus message (`bus-gap.js`)', '']
  if (!r) return [...out, NOT_RUN('bus-gap')]
  const s = r.summary ?? {}
  return [
    ...out,
    `A reader with ${int(r.keys)} entries in L1 misses two invalidations; medians of ${r.rounds} rounds. cachegraph only: the competitors have no log to replay from.`,
    '',
    table(
      ['strategy', 'trusted again after ms', 'L1 hits in the next pass', 'pass ms'],
      [
        [
          'replay the missed steps',
          x2(s.replay?.resyncMs),
          int(s.replay?.l1HitsAfter),
          x2(s.replay?.passMs),
        ],
        [
          'start over (log deleted)',
          x2(s.startOver?.resyncMs),
          int(s.startOver?.l1HitsAfter),
          x2(s.startOver?.passMs),
        ],
      ],
      ['l', 'r', 'r', 'r'],
    ),
  ]
}

export function roundTrips(results) {
  const r = results['round-trips']
  const out = ['### Redis round trips per operation (`round-trips.js`)', '']
  if (!r) return [...out, NOT_RUN('round-trips')]
  const ops = r.operations ?? []
  const contestants = [...new Set(ops.map((o) => o.contestant))]
  const operations = [...new Set(ops.map((o) => o.operation))]
  const commands = (c) =>
    Object.entries(c ?? {})
      .map(([cmd, n]) => (n === 1 ? cmd : `${cmd}×${n}`))
      .join(', ')
  const cell = (operation, contestant) => {
    const o = ops.find((x) => x.operation === operation && x.contestant === contestant)
    if (!o) return '—'
    const cmds = commands(o.commands)
    return cmds ? `${o.roundTrips} (${cmds})` : String(o.roundTrips)
  }
  out.push(
    'Round trips per operation (commands sent).',
    '',
    table(
      ['operation', ...contestants],
      operations.map((op) => [op, ...contestants.map((c) => cell(op, c))]),
      ['l', ...contestants.map(() => 'r')],
    ),
  )
  const notes = ops.filter((o) => o.note)
  if (notes.length > 0) {
    out.push('', ...notes.map((o) => `- ${o.contestant}, ${o.operation}: ${o.note}`))
  }
  return out
}
