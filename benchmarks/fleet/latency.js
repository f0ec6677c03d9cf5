// The latency phases of fleet.js: bus propagation (plain invalidations, from the call to applied
// in every other member) and acknowledged invalidations (from the call to resolved), measured in
// LATENCY_ROUNDS interleaved rounds — a block of each per round — so the two see the machine in
// the same moments. The acknowledged p99 is held against the bus's whole-fleet p99
// (report/targets.js), and a 2-core machine's pace moves a lot within a minute: phases one after
// the other compared one minute's tail with another's.

import { median, percentile } from '../lib.js'
import { serverDelta, serverSnapshot } from '../private-redis.js'

/** Rounds of [plain invalidations, acknowledged ones]. */
export const LATENCY_ROUNDS = 4

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// A fold, not Math.max(...xs): 1,000 members give hundreds of thousands of samples, past the
// number of arguments a call can take.
const largest = (xs) => xs.reduce((max, x) => (x > max ? x : max), -Infinity)

export const latencyStats = (xs) =>
  xs.length === 0
    ? null
    : { p50: percentile(xs, 0.5), p99: percentile(xs, 0.99), max: largest(xs), n: xs.length }

/**
 * Measures both phases on a formed fleet; `writer` is the host whose first cache sends.
 * `net(delta)` takes the idle background out of a server delta. Returns `{ propagation, acked }`
 * (propagation undefined for a fleet of one).
 */
export async function measureLatencies({ hosts, writer, run, members, admin, net, limits }) {
  const { messages, acks, propagationMaxMs, ackMaxMs } = limits
  const plain = { sent: 0, latencies: [], wholeFleet: [], repeated: 0, failed: 0, timedOut: false }
  const acked = { calls: [], failed: 0, firstError: undefined, timedOut: false, deltas: [] }
  console.log(
    `  ${members > 1 ? `bus propagation (${messages} invalidations) and ` : ''}acknowledged ` +
      `invalidations (up to ${acks}), one at a time, in ${LATENCY_ROUNDS} interleaved rounds...`,
  )
  for (let round = 0; round < LATENCY_ROUNDS; round++) {
    const share = (total) =>
      Math.floor(total / LATENCY_ROUNDS) + (round < total % LATENCY_ROUNDS ? 1 : 0)
    if (members > 1) {
      await propagationRound(hosts, writer, `${run}-${round}`, {
        count: share(messages),
        maxMs: propagationMaxMs / LATENCY_ROUNDS,
        into: plain,
      })
    }
    await ackRound(hosts, writer, `${run}-${round}`, {
      admin,
      count: share(acks),
      maxMs: ackMaxMs / LATENCY_ROUNDS,
      into: acked,
    })
  }
  return {
    propagation:
      members > 1
        ? {
            messages: plain.sent,
            expected: plain.sent * (members - 1),
            applied: plain.latencies.length,
            repeated: plain.repeated,
            failed: plain.failed,
            timedOut: plain.timedOut,
            ms: latencyStats(plain.latencies),
            wholeFleetMs: latencyStats(plain.wholeFleet),
          }
        : undefined,
    acked: ackSummary(acked, net),
  }
}

/** One block of plain invalidations, one at a time; each member's arrival times, collected. */
async function propagationRound(hosts, writer, run, { count, maxMs, into }) {
  await Promise.all(hosts.map((h) => h.call('record')))
  const propagated = await writer.call('propagate', { run, count, maxMs })
  const sent = new Map(propagated.sent)
  await sleep(500)
  const arrivals = await Promise.all(hosts.map((h) => h.call('arrivals')))
  const lastApplied = new Map()
  // A member may apply a step twice (from the bus, then from a replay): its first time counts.
  const seen = new Set()
  arrivals.forEach((list, h) => {
    for (const [c, tag, at] of list) {
      const called = sent.get(tag)
      // The writer's own cache is not one of the others (a replay may re-apply its step).
      if (called === undefined || (h === 0 && c === 0)) continue
      if (seen.has(`${h}:${c}:${tag}`)) {
        into.repeated++
        continue
      }
      seen.add(`${h}:${c}:${tag}`)
      into.latencies.push(at - called)
      lastApplied.set(tag, Math.max(lastApplied.get(tag) ?? 0, at - called))
    }
  })
  into.sent += sent.size
  into.wholeFleet.push(...lastApplied.values())
  into.failed += propagated.failed
  into.timedOut ||= propagated.timedOut
}

/**
 * One block of acknowledged invalidations, every member reading lately (an idle member's record
 * lapses from the requests' listing: it is not asked, and wakes with a join before its L1
 * serves). Redis's counters are read around the calls alone, after the store records again.
 */
async function ackRound(hosts, writer, run, { admin, count, maxMs, into }) {
  await Promise.all(hosts.map((h) => h.call('wake')))
  await writer.call('untilRecording', { run })
  const before = await serverSnapshot(admin)
  const result = await writer.call('acked', { run, count, maxMs })
  into.deltas.push(serverDelta(before, await serverSnapshot(admin)))
  into.calls.push(...result.calls)
  into.failed += result.failed
  into.firstError ??= result.firstError
  into.timedOut ||= result.timedOut
}

function ackSummary({ calls, failed, firstError, timedOut, deltas }, net) {
  const delta = deltas.reduce(addDelta)
  const netted = net(delta)
  const n = calls.length
  return {
    calls: n,
    failed,
    firstError,
    timedOut,
    ms: latencyStats(calls.map((c) => c.ms)),
    commandsPerCall: n > 0 ? netted.commands / n : NaN,
    commandsPerCallGross: n > 0 ? delta.total / n : NaN,
    redisCpuUsPerCall: n > 0 ? (netted.cpuSeconds * 1e6) / n : NaN,
    byCommandPerCall: Object.fromEntries(
      Object.entries(delta.commands).map(([name, count]) => [name, count / n]),
    ),
    members: median(calls.map((c) => c.members ?? NaN)),
    acked: median(calls.map((c) => c.acked ?? NaN)),
    late: calls.reduce((sum, c) => sum + (c.late ?? 0), 0),
  }
}

/** Two server windows as one: commands, CPU and time added up. */
function addDelta(a, b) {
  const commands = { ...a.commands }
  for (const [name, count] of Object.entries(b.commands)) {
    commands[name] = (commands[name] ?? 0) + count
  }
  return {
    commands,
    total: a.total + b.total,
    cpuSeconds: a.cpuSeconds + b.cpuSeconds,
    seconds: a.seconds + b.seconds,
  }
}
