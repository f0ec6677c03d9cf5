// L1 hit benchmark: cachegraph's in-process read path against lru-cache and bentocache.
//
// Method (see README.md): every contestant runs in this one process, interleaved. Each round runs
// every contestant for the same number of operations, in an order that rotates from round to
// round, over the same pre-shuffled sequence of 100,000 keys. One awaited operation at a time:
// every operation is `await x.get(key)`, even where the competitor's get is synchronous, so every
// contestant pays the same await. Ratios are computed per round and the reported ratio is the
// median of the per-round ratios.
//
// getOrSet hits are measured the same way: cachegraph's next to bentocache's `getOrSet`,
// cacheable's `getOrSet` (defaults: its in-memory primary) and lru-cache's `fetch` (its
// getOrSet, which needs a `fetchMethod`); every loader counts its calls, which must stay at 0.
//
// Environment: BENCH_ROUNDS (default 15), BENCH_OPS (operations per contestant per round,
// default 100000: every key read once per round), BENCH_SLOW_OPS (operations per round for the
// bentocache and cacheable contestants, default BENCH_OPS / 4: they run at ~0.1x the others, and
// ops/sec over a quarter of the keys is the same figure in a quarter of the time). `node l1-hit.js --check`
// exits with 1 when a target is not met.

import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { Cacheable } from 'cacheable'
import { createCache } from 'cachegraph'
import { LRUCache } from 'lru-cache'
import { do_not_optimize } from 'mitata'

import {
  describe,
  environment,
  positiveInt,
  printThroughput,
  prng,
  summarize,
  writeResult,
} from './lib.js'

const KEYS = 100_000
const ROUNDS = positiveInt(process.env.BENCH_ROUNDS, 15)
const OPS = positiveInt(process.env.BENCH_OPS, KEYS)
const SLOW_OPS = Math.min(OPS, positiveInt(process.env.BENCH_SLOW_OPS, Math.ceil(OPS / 4)))
const WARMUP_ROUNDS = 1
const TARGETS = { vsLruCache: 0.8, vsBentocache: 5 }

/** A plain object of about 200 bytes (as JSON). */
function makeValue(i) {
  return {
    id: i,
    name: `User ${i}`,
    email: `user${i}@example.com`,
    orgId: i % 100,
    role: i % 7 === 0 ? 'admin' : 'member',
    active: i % 3 !== 0,
    createdAt: '2026-01-15T10:20:30.000Z',
    roles: ['reader', 'writer'],
    bio: 'Likes caches that know what they depend on.',
  }
}

// --- data -------------------------------------------------------------------------------------

const keys = Array.from({ length: KEYS }, (_, i) => `user:${i}`)
const values = Array.from({ length: KEYS }, (_, i) => makeValue(i))
const valueBytes = values.reduce((n, v) => n + JSON.stringify(v).length, 0) / KEYS
/** The access order: every key once, shuffled (Fisher-Yates). */
const order = keys.slice()
const random = prng(0x5eed)
for (let i = order.length - 1; i > 0; i--) {
  const j = Math.floor(random() * (i + 1))
  ;[order[i], order[j]] = [order[j], order[i]]
}
/** The id behind each position of `order`, to know what sum a run of any length must return. */
const orderIds = order.map((key) => Number(key.slice('user:'.length)))

/** The sum of the ids `count` hits starting at `start` of `order` read (wrapping around). */
function expectedSum(start, count) {
  let sum = 0
  let j = start
  for (let n = 0; n < count; n++) {
    sum += orderIds[j]
    if (++j === KEYS) j = 0
  }
  return sum
}

// --- contestants ------------------------------------------------------------------------------

const lru = new LRUCache({ max: 200_000, ttl: 300_000 })
let loaderCalls = 0
const loader = () => {
  loaderCalls++
  return { loaded: true }
}
/** lru-cache's getOrSet is `fetch`, which needs the loader in the constructor: its own cache. */
const lruFetch = new LRUCache({ max: 200_000, ttl: 300_000, fetchMethod: loader })

const bentoDriver = (options) =>
  new BentoCache({
    default: 'memory',
    ttl: '5m',
    stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: 200_000, ...options })) },
  })
/** bentocache as configured by default: the memory driver serializes values. */
const bento = bentoDriver({})
/** bentocache keeping references, as lru-cache and cachegraph do. */
const bentoRefs = bentoDriver({ serialize: false })

/** cacheable as configured by default: its in-memory primary (which clones values on read). */
const cacheable = new Cacheable({ ttl: '5m' })
const cg = createCache({ ttl: '5m', l1: { maxEntries: 200_000 } })

console.log(`filling ${KEYS.toLocaleString('en-US')} keys in each cache...`)
for (let i = 0; i < KEYS; i++) {
  const key = keys[i]
  const value = values[i]
  lru.set(key, value)
  lruFetch.set(key, value)
  await cacheable.set(key, value)
  await bento.set({ key, value })
  await bentoRefs.set({ key, value })
  const stored = await cg.set(key, value, { tags: [`user:${i}`, `org:${i % 100}`, 'all'] })
  if (!stored) throw new Error(`cachegraph did not store ${key}`)
}

// Every key must be a hit in every cache before anything is timed.
for (let i = 0; i < KEYS; i++) {
  const key = keys[i]
  const found = [
    ['lru-cache', lru.get(key)],
    ['bentocache', await bento.get({ key })],
    ['bentocache (serialize: false)', await bentoRefs.get({ key })],
    ['cachegraph', await cg.get(key)],
    ['lru-cache fetch', await lruFetch.fetch(key)],
    ['cacheable', await cacheable.get(key)],
  ]
  for (const [name, value] of found) {
    if (value?.id !== i) throw new Error(`${name}: ${key} is not a hit after filling`)
  }
}

// One function per contestant, so each loop stays monomorphic. Each returns the sum of the ids
// it read: the sums of all contestants must agree (every op was a hit, on the same keys).

async function runLru(start, count) {
  let sum = 0
  let j = start
  for (let n = 0; n < count; n++) {
    const value = await lru.get(order[j])
    sum += value.id
    if (++j === KEYS) j = 0
  }
  return sum
}

async function runBento(start, count) {
  let sum = 0
  let j = start
  for (let n = 0; n < count; n++) {
    const value = await bento.get({ key: order[j] })
    sum += value.id
    if (++j === KEYS) j = 0
  }
  return sum
}

async function runBentoRefs(start, count) {
  let sum = 0
  let j = start
  for (let n = 0; n < count; n++) {
    const value = await bentoRefs.get({ key: order[j] })
    sum += value.id
    if (++j === KEYS) j = 0
  }
  return sum
}

async function runCgGet(start, count) {
  let sum = 0
  let j = start
  for (let n = 0; n < count; n++) {
    const value = await cg.get(order[j])
    sum += value.id
    if (++j === KEYS) j = 0
  }
  return sum
}

async function runCgGetOrSet(start, count) {
  let sum = 0
  let j = start
  for (let n = 0; n < count; n++) {
    const value = await cg.getOrSet(order[j], loader)
    sum += value.id
    if (++j === KEYS) j = 0
  }
  return sum
}

async function runLruFetch(start, count) {
  let sum = 0
  let j = start
  for (let n = 0; n < count; n++) {
    const value = await lruFetch.fetch(order[j])
    sum += value.id
    if (++j === KEYS) j = 0
  }
  return sum
}

async function runBentoGetOrSet(start, count) {
  let sum = 0
  let j = start
  for (let n = 0; n < count; n++) {
    const value = await bento.getOrSet({ key: order[j], factory: loader })
    sum += value.id
    if (++j === KEYS) j = 0
  }
  return sum
}

async function runCacheableGetOrSet(start, count) {
  let sum = 0
  let j = start
  for (let n = 0; n < count; n++) {
    const value = await cacheable.getOrSet(order[j], loader)
    sum += value.id
    if (++j === KEYS) j = 0
  }
  return sum
}

// `slow` contestants run SLOW_OPS per round instead of OPS (see the header).
const contestants = [
  { id: 'lru-cache.get', label: 'lru-cache get', run: runLru },
  {
    id: 'bentocache.get',
    label: 'bentocache get (memory driver, defaults)',
    run: runBento,
    slow: true,
  },
  {
    id: 'bentocache.get[serialize:false]',
    label: 'bentocache get (memory driver, serialize: false)',
    run: runBentoRefs,
    slow: true,
  },
  { id: 'cachegraph.get', label: 'cachegraph get (3 tags per entry)', run: runCgGet },
  { id: 'cachegraph.getOrSet', label: 'cachegraph getOrSet hit', run: runCgGetOrSet },
  { id: 'lru-cache.fetch', label: 'lru-cache fetch hit (fetchMethod)', run: runLruFetch },
  {
    id: 'bentocache.getOrSet',
    label: 'bentocache getOrSet hit (memory driver, defaults)',
    run: runBentoGetOrSet,
    slow: true,
  },
  {
    id: 'cacheable.getOrSet',
    label: 'cacheable getOrSet hit (in-memory primary, defaults)',
    run: runCacheableGetOrSet,
    slow: true,
  },
]
const RATIOS = [
  { id: 'cachegraph.get / lru-cache.get', of: 'cachegraph.get', to: 'lru-cache.get' },
  { id: 'cachegraph.get / bentocache.get', of: 'cachegraph.get', to: 'bentocache.get' },
  {
    id: 'cachegraph.get / bentocache.get[serialize:false]',
    of: 'cachegraph.get',
    to: 'bentocache.get[serialize:false]',
  },
  { id: 'cachegraph.getOrSet / lru-cache.get', of: 'cachegraph.getOrSet', to: 'lru-cache.get' },
  { id: 'lru-cache.fetch / lru-cache.get', of: 'lru-cache.fetch', to: 'lru-cache.get' },
  { id: 'bentocache.getOrSet / lru-cache.get', of: 'bentocache.getOrSet', to: 'lru-cache.get' },
  { id: 'cacheable.getOrSet / lru-cache.get', of: 'cacheable.getOrSet', to: 'lru-cache.get' },
  {
    id: 'cachegraph.getOrSet / bentocache.getOrSet',
    of: 'cachegraph.getOrSet',
    to: 'bentocache.getOrSet',
  },
  {
    id: 'cachegraph.getOrSet / cacheable.getOrSet',
    of: 'cachegraph.getOrSet',
    to: 'cacheable.getOrSet',
  },
]

// --- rounds -----------------------------------------------------------------------------------

/** Runs every contestant once, in the order rotated by `round`; returns ops/sec by id. */
async function round(round) {
  const start = (round * 7919) % KEYS
  const opsPerSec = {}
  const expected = { [OPS]: expectedSum(start, OPS), [SLOW_OPS]: expectedSum(start, SLOW_OPS) }
  for (let c = 0; c < contestants.length; c++) {
    const contestant = contestants[(c + round) % contestants.length]
    const ops = contestant.slow ? SLOW_OPS : OPS
    const t0 = process.hrtime.bigint()
    const sum = await contestant.run(start, ops)
    const ns = Number(process.hrtime.bigint() - t0)
    do_not_optimize(sum)
    // Every contestant read the same keys as far as it went, and every read was a hit on them.
    if (sum !== expected[ops]) throw new Error(`${contestant.id} read other values than expected`)
    opsPerSec[contestant.id] = (ops * 1e9) / ns
  }
  return opsPerSec
}

console.log(`warming up (${WARMUP_ROUNDS} rounds, not counted)...`)
for (let r = 0; r < WARMUP_ROUNDS; r++) await round(r)

console.log(
  `${ROUNDS} rounds x ${OPS.toLocaleString('en-US')} ops per contestant ` +
    `(${SLOW_OPS.toLocaleString('en-US')} for bentocache, cacheable)...`,
)
const started = Date.now()
const rounds = []
for (let r = 0; r < ROUNDS; r++) {
  const opsPerSec = await round(r)
  const ratios = Object.fromEntries(RATIOS.map((q) => [q.id, opsPerSec[q.of] / opsPerSec[q.to]]))
  rounds.push({ opsPerSec, ratios })
}
const seconds = (Date.now() - started) / 1000

if (loaderCalls !== 0) throw new Error(`getOrSet ran its loader ${loaderCalls} times: not a hit`)
const stats = cg.stats()

// --- report -----------------------------------------------------------------------------------

const { summary, ratios } = summarize(
  rounds,
  contestants,
  RATIOS.map((q) => q.id),
)
const targets = [
  {
    id: 'cachegraph.get >= 0.8 x lru-cache.get',
    ratio: ratios['cachegraph.get / lru-cache.get'].median,
    target: TARGETS.vsLruCache,
  },
  {
    id: 'cachegraph.get >= 5 x bentocache.get',
    ratio: ratios['cachegraph.get / bentocache.get'].median,
    target: TARGETS.vsBentocache,
  },
].map((t) => ({ ...t, met: t.ratio >= t.target }))

const env = environment()
console.log()
console.log(
  `L1 hit, ${KEYS.toLocaleString('en-US')} keys, ~${Math.round(valueBytes)}-byte values, ` +
    `one awaited op at a time, shuffled keys`,
)
console.log(describe(env))
console.log(
  `${ROUNDS} rounds x ${OPS.toLocaleString('en-US')} ops per contestant ` +
    `(${SLOW_OPS.toLocaleString('en-US')} for bentocache, cacheable), rotating order; ${seconds.toFixed(1)} s`,
)
console.log()
printThroughput(contestants, summary, ratios, 52)
console.log()
for (const t of targets) {
  console.log(`target ${t.id}: ${t.ratio.toFixed(2)} -> ${t.met ? 'MET' : 'NOT MET'}`)
}

const result = {
  benchmark: 'l1-hit',
  ...env,
  method: {
    keys: KEYS,
    valueBytes: Math.round(valueBytes),
    tagsPerEntry: 3,
    access: 'pre-shuffled random order, one awaited op at a time',
    rounds: ROUNDS,
    warmupRounds: WARMUP_ROUNDS,
    opsPerContestantPerRound: OPS,
    opsPerRoundForBentocacheAndCacheable: SLOW_OPS,
    order: 'rotating',
    ratio: 'median of per-round ratios',
  },
  contestants: summary,
  ratios,
  targets,
  cachegraphStats: { l1Hits: stats.l1.hits, misses: stats.misses, loads: stats.loads },
  rounds,
}
console.log()
// The JSON line leaves out the per-round figures (they are in the results file).
console.log(JSON.stringify({ ...result, rounds: undefined }))
writeResult('l1-hit', result)

await Promise.all([bento.disconnectAll(), bentoRefs.disconnectAll(), cg.close()])
if (process.argv.includes('--check') && targets.some((t) => !t.met)) process.exitCode = 1
