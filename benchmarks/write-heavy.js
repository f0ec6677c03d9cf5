// Write-heavy: `set` of new keys, 64 in flight, with the bus on, against raw ioredis `SET` in the
// same run. SPEC §7: at least 0.5 × raw `SET` (here with one process; fleet.js measures it with
// 8, 32 and 1,000 members listening).
//
// Method: a Redis server of this script's own (private-redis.js), so the server's counters count
// this script alone. Contestants, each on its own connection:
//   raw              ioredis `SET key <1 KB JSON> EX 600`
//   cachegraph       createCache({ ttl: '10m', store: redisStore({ client, prefix }), bus:
//                    redisBus() }) (L1 on, the defaults); set(key, value, { tags: ['item:<n>',
//                    'group:<n % 100>', 'all'] })
//   cachegraph-store the same without a bus, on a prefix of its own; for information
// Every key is new (never written before). 64 async workers each await one call at a time for
// BENCH_ROUND_MS (default 1500) per contestant per round; 1 warm-up round (not counted), then
// BENCH_ROUNDS (default 8) in an order that rotates. The ratio is taken per round; reported: the
// median of the per-round ratios, and medians of ops/s. Around each timed run, `INFO commandstats`
// and `INFO cpu` give the commands Redis ran (inside scripts included) and its CPU time per set,
// and `process.cpuUsage()` this process's (user + system): on a shared machine the two CPU times
// per set move less with the neighbours' load than throughput does, and show which side a set's
// cost is on.
// Every set must resolve true (stored). The keys of a run are deleted (SCAN + UNLINK) after it,
// untimed, so the server's memory stays small.
//
// `node write-heavy.js --check` exits with 1 when cachegraph / raw is below 0.5.

import { randomBytes } from 'node:crypto'

import { createCache } from 'cachegraph'
import { redisBus, redisStore } from 'cachegraph/redis'
import { Redis } from 'ioredis'

import {
  deleteKeysContaining,
  describe,
  environment,
  median,
  positiveInt,
  printThroughput,
  runFor,
  summarize,
  writeResult,
} from './lib.js'
import { serverDelta, serverSnapshot, startPrivateRedis } from './private-redis.js'

const ROUNDS = positiveInt(process.env.BENCH_ROUNDS, 8)
const ROUND_MS = positiveInt(process.env.BENCH_ROUND_MS, 1_500)
const IN_FLIGHT = positiveInt(process.env.BENCH_IN_FLIGHT, 64)
const VALUE_BYTES = 1024
const TARGET = 0.5
const RUN = `cgbench-wr-${process.pid}-${randomBytes(4).toString('hex')}`

/** A plain object whose JSON is exactly VALUE_BYTES long. */
export function makeValue(n) {
  const value = { id: n, name: `Item ${n}`, price: 1000 + (n % 9000), notes: '' }
  value.notes = 'x'.repeat(VALUE_BYTES - JSON.stringify(value).length)
  return value
}

const redis = await startPrivateRedis('write-heavy.js')
const closers = []
try {
  await main()
} finally {
  for (const close of closers.reverse()) await close().catch(() => {})
  await redis.stop()
}

async function main() {
  const raw = new Redis(redis.url)
  closers.push(() => raw.quit())
  const cgClient = new Redis(redis.url)
  closers.push(() => cgClient.quit())
  const cg = createCache({
    ttl: '10m',
    store: redisStore({ client: cgClient, prefix: `${RUN}-cg` }),
    bus: redisBus(),
  })
  closers.push(() => cg.close())
  const plainClient = new Redis(redis.url)
  closers.push(() => plainClient.quit())
  const plain = createCache({
    ttl: '10m',
    store: redisStore({ client: plainClient, prefix: `${RUN}-plain` }),
  })
  closers.push(() => plain.close())

  const tagsOf = (key, n) => [`item:${key}`, `group:${n % 100}`, 'all']
  /** Sets that resolve false (not stored: a shared-tier failure, say) are counted, not timed. */
  let notStored = 0
  const cgSet = (cache) => async (key, n) => {
    if (!(await cache.set(key, makeValue(n), { tags: tagsOf(key, n) }))) notStored++
  }
  const contestants = [
    {
      id: 'raw',
      label: 'ioredis SET (1 KB JSON, EX 600)',
      write: (key, n) => raw.set(key, JSON.stringify(makeValue(n)), 'EX', 600),
    },
    { id: 'cachegraph', label: 'cachegraph set (bus, 3 tags)', write: cgSet(cg) },
    { id: 'cachegraph-store', label: 'cachegraph set (no bus, 3 tags)', write: cgSet(plain) },
  ]
  const RATIOS = ['cachegraph', 'cachegraph-store'].map((id) => ({
    id: `${id} / raw`,
    of: id,
    to: 'raw',
  }))

  /** One timed run of `contestant`: ops/s, and what Redis did per set. */
  async function run(contestant, round) {
    const marker = `${RUN}-r${round}-${contestant.id}:`
    const before = await serverSnapshot(redis.admin)
    const failedBefore = notStored
    const cpuBefore = process.cpuUsage()
    const { ops: calls, seconds } = await runFor(ROUND_MS, IN_FLIGHT, (n) =>
      contestant.write(`${marker}${n}`, n),
    )
    const cpu = process.cpuUsage(cpuBefore)
    const delta = serverDelta(before, await serverSnapshot(redis.admin))
    await deleteKeysContaining(redis.admin, marker)
    const ops = calls - (notStored - failedBefore)
    return {
      opsPerSec: ops / seconds,
      commandsPerSet: delta.total / ops,
      redisCpuUsPerSet: (delta.cpuSeconds * 1e6) / ops,
      processCpuUsPerSet: (cpu.user + cpu.system) / ops,
      commands: delta.commands,
      ops,
    }
  }

  console.log(
    `${ROUNDS} rounds (+1 warm-up) x ${ROUND_MS} ms per contestant, ${IN_FLIGHT} in flight...`,
  )
  const rounds = []
  for (let round = -1; round < ROUNDS; round++) {
    const opsPerSec = {}
    const perSet = {}
    for (let c = 0; c < contestants.length; c++) {
      const contestant = contestants[(c + Math.max(0, round)) % contestants.length]
      const x = await run(contestant, round + 1)
      opsPerSec[contestant.id] = x.opsPerSec
      perSet[contestant.id] = {
        commands: x.commandsPerSet,
        redisCpuUs: x.redisCpuUsPerSet,
        processCpuUs: x.processCpuUsPerSet,
        byCommand: Object.fromEntries(
          Object.entries(x.commands).map(([name, n]) => [name, n / x.ops]),
        ),
      }
    }
    if (round < 0) continue
    const ratios = Object.fromEntries(RATIOS.map((q) => [q.id, opsPerSec[q.of] / opsPerSec[q.to]]))
    rounds.push({ opsPerSec, ratios, perSet })
  }

  const { summary, ratios } = summarize(
    rounds,
    contestants,
    RATIOS.map((q) => q.id),
  )
  const perSet = Object.fromEntries(
    contestants.map((c) => {
      const byCommand = {}
      for (const r of rounds) {
        for (const [name, n] of Object.entries(r.perSet[c.id].byCommand)) {
          ;(byCommand[name] ??= []).push(n)
        }
      }
      return [
        c.id,
        {
          commands: median(rounds.map((r) => r.perSet[c.id].commands)),
          redisCpuUs: median(rounds.map((r) => r.perSet[c.id].redisCpuUs)),
          processCpuUs: median(rounds.map((r) => r.perSet[c.id].processCpuUs)),
          byCommand: Object.fromEntries(
            Object.entries(byCommand).map(([name, xs]) => [name, median(xs)]),
          ),
        },
      ]
    }),
  )

  const env = environment()
  console.log(`\nset of new keys, ${IN_FLIGHT} in flight; Redis ${redis.version}; ${describe(env)}`)
  printThroughput(contestants, summary, ratios, 36)
  console.log()
  for (const c of contestants) {
    const x = perSet[c.id]
    const by = Object.entries(x.byCommand)
      .filter(([, n]) => n >= 0.01)
      .sort((a, b) => b[1] - a[1])
      .map(([name, n]) => `${name} ${n.toFixed(2)}`)
      .join(', ')
    console.log(
      `${c.label.padEnd(36)} ${x.commands.toFixed(2)} commands/set (${by}); ` +
        `Redis CPU ${x.redisCpuUs.toFixed(1)} µs/set, this process's CPU ${x.processCpuUs.toFixed(1)} µs/set`,
    )
  }
  const value = ratios['cachegraph / raw'].median
  const targets = [
    { id: `cachegraph set (bus) / raw SET >= ${TARGET}`, value, met: value >= TARGET },
  ]
  if (notStored > 0) console.log(`\n${notStored} cachegraph sets resolved false (not stored)`)
  console.log(
    `\ntarget ${targets[0].id}: ${value.toFixed(2)} -> ${targets[0].met ? 'MET' : 'NOT MET'}`,
  )
  writeResult('write-heavy', {
    benchmark: 'write-heavy',
    ...env,
    redisVersion: redis.version,
    method: {
      inFlight: IN_FLIGHT,
      roundMs: ROUND_MS,
      rounds: ROUNDS,
      warmupRounds: 1,
      valueBytes: VALUE_BYTES,
      tagsPerEntry: 3,
      server: 'private redis-server (--save "" --appendonly no)',
      ratio: 'median of per-round ratios',
    },
    contestants: summary,
    ratios,
    perSet,
    notStored,
    targets,
    rounds,
  })
  if (process.argv.includes('--check') && targets.some((t) => !t.met)) process.exitCode = 1
}
