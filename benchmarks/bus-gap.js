// What a lost bus message costs: replaying the missed steps from the store's log, against
// starting over (dropping the L1) when the log cannot fill the gap.
//
// Method: a reader cache (L1 + Redis + bus) holds 10,000 entries in its L1. Its bus subscriber is
// killed (`CLIENT KILL ID`, that connection only) and a writer cache invalidates one tag while it
// is down, so the reader sees a gap when it is back. For "start over" the store's log is deleted
// before the reader reconnects. Measured: the time from the kill until the reader is trusted
// again, and how the next pass over all 10,000 keys is served (L1 hits vs shared-tier reads) and
// how long it takes. Repeated `BENCH_ROUNDS` times (default 5) per strategy, alternating; medians.

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
  writeResult,
} from './lib.js'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const ROUNDS = positiveInt(process.env.BENCH_ROUNDS, 5)
const KEYS = 10_000

const admin = new Redis(REDIS_URL)
const results = { replay: [], startOver: [] }

for (let round = 0; round < ROUNDS * 2; round++) {
  const strategy = round % 2 === 0 ? 'replay' : 'startOver'
  results[strategy].push(await measure(strategy === 'startOver'))
}

const summary = Object.fromEntries(
  Object.entries(results).map(([strategy, runs]) => [
    strategy,
    {
      resyncMs: median(runs.map((r) => r.resyncMs)),
      l1HitsAfter: median(runs.map((r) => r.l1Hits)),
      passMs: median(runs.map((r) => r.passMs)),
    },
  ]),
)
const env = environment()
console.log(`bus gap: replay from the log vs start over; ${describe(env)}`)
console.log(`${''.padEnd(12)} resync ms   L1 hits in the next pass of ${KEYS}   pass ms`)
for (const [strategy, s] of Object.entries(summary)) {
  console.log(
    `${strategy.padEnd(12)} ${s.resyncMs.toFixed(1).padStart(9)}   ${String(s.l1HitsAfter).padStart(33)}   ${s.passMs.toFixed(1).padStart(7)}`,
  )
}
writeResult('bus-gap', {
  benchmark: 'bus-gap',
  ...env,
  rounds: ROUNDS,
  keys: KEYS,
  summary,
  results,
})
await admin.quit()

async function measure(deleteLog) {
  const prefix = `cgbench-gap-${process.pid}-${randomBytes(4).toString('hex')}`
  const bus = redisBus({ maxSilence: '10s' })
  const reader = createCache({
    store: redisStore({ url: REDIS_URL, prefix }),
    bus,
    l1: { maxEntries: KEYS * 2 },
  })
  const writer = createCache({ store: redisStore({ url: REDIS_URL, prefix }), bus: redisBus() })
  const trusted = (cache) => new Promise((resolve) => cache.on('bus:trusted', resolve))
  await Promise.all([trusted(reader), trusted(writer)])
  await reader.setMany(
    Array.from({ length: KEYS }, (_, i) => ({ key: `k${i}`, value: { i }, tags: [`t${i}`] })),
  )
  for (let i = 0; i < KEYS; i++) await reader.get(`k${i}`) // all in L1 and checked

  const list = await admin.client('LIST')
  const id = /\bid=(\d+)/.exec(
    list.split('\n').find((l) => l.includes(`name=${bus.clientName}`)),
  )[1]
  const back = new Promise((resolve) => reader.on('bus:trusted', resolve))
  const t0 = performance.now()
  await admin.client('KILL', 'ID', id)
  await writer.invalidate('t0')
  if (deleteLog) await admin.del(`{${prefix}}:log`)
  await writer.invalidate('t1') // after the log was deleted: the gap cannot be filled from it
  await back
  const resyncMs = performance.now() - t0

  const hitsBefore = reader.stats().l1.hits
  const t1 = performance.now()
  for (let i = 0; i < KEYS; i++) await reader.get(`k${i}`)
  const passMs = performance.now() - t1
  const l1Hits = reader.stats().l1.hits - hitsBefore

  await Promise.all([reader.close(), writer.close()])
  await deleteKeysContaining(admin, prefix)
  return { resyncMs, l1Hits, passMs }
}
