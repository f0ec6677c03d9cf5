// L2 hit benchmark: cachegraph's read path on its Redis store (no L1), against a raw ioredis
// GET + JSON.parse, bentocache's Redis driver and cacheable's Redis store. cachegraph runs twice:
// with its bus (the fleet set-up: entries are fetched with one MGET and judged in the process,
// which the bus keeps informed) and with the store alone (one MGET of the entries, the sequence
// and the watermark proves them valid; only the entries it cannot prove go to the checking Lua
// script). Then, on the same
// Redis: the latency of invalidate(tag) against the number of dependents, and the first read
// after an invalidation against a raw GET of a missing key.
//
// Method (see README.md): every contestant runs in this one process, interleaved. Each round runs
// every contestant for the same number of operations, in an order that rotates from round to
// round, over the same pre-shuffled sequence of 10,000 keys holding ~1 KB JSON objects. 64
// operations are in flight: 64 async workers each await one get at a time, taking the next key
// of the sequence. Ratios are computed per round and the reported ratio is the median of the
// per-round ratios.
//
// Latencies (one awaited call at a time, medians): invalidate('hot') with 1, 10,000 and 100,000
// entries depending on 'hot' (one cache and prefix per size), next to a raw GET of a missing key
// as the cost of one bare round trip; then pairs of a cachegraph get of a key whose tag was just
// invalidated (it must miss) and a raw GET of a missing key, alternating which goes first.
//
// Every key and record this script writes lives under one prefix of its own (`cgbench-l2-<pid>-
// <random>`); they are deleted (SCAN + UNLINK) at the end, also when the script fails. The server
// is never flushed.
//
// Environment: REDIS_URL (default redis://127.0.0.1:6379), BENCH_ROUNDS (default 15), BENCH_OPS
// (operations per contestant per round, default 20000), BENCH_IN_FLIGHT (default 64),
// BENCH_INVALIDATIONS (timed invalidations per size, default 500), BENCH_FIRST_READS (timed
// first reads after an invalidation, default 1000). `node l2-hit.js --check` exits with 1 when a
// target is not met.

import { randomBytes } from 'node:crypto'

import { createKeyv } from '@keyv/redis'
import { BentoCache, bentostore } from 'bentocache'
import { redisDriver } from 'bentocache/drivers/redis'
import { Cacheable } from 'cacheable'
import { createCache } from 'cachegraph'
import { redisBus, redisStore } from 'cachegraph/redis'
import { Redis } from 'ioredis'
import { do_not_optimize } from 'mitata'

import {
  connectOrExit,
  deleteKeysContaining,
  describe,
  environment,
  ioredisOptions,
  median,
  percentile,
  positiveInt,
  printThroughput,
  prng,
  summarize,
  writeResult,
} from './lib.js'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const KEYS = 10_000
const VALUE_BYTES = 1024
const ROUNDS = positiveInt(process.env.BENCH_ROUNDS, 15)
const OPS = positiveInt(process.env.BENCH_OPS, 20_000)
const IN_FLIGHT = positiveInt(process.env.BENCH_IN_FLIGHT, 64)
const WARMUP_ROUNDS = 1
const INVALIDATION_SIZES = [1, 10_000, 100_000]
const INVALIDATIONS = positiveInt(process.env.BENCH_INVALIDATIONS, 500)
const INVALIDATION_ROUNDS = 5
const FIRST_READS = positiveInt(process.env.BENCH_FIRST_READS, 1_000)
const WRITE_CHUNK = 1_000
const TARGETS = { vsRawGet: 0.8, invalidateMs: 2, invalidateFlat: 2, firstRead: 1.5 }

/** Everything this script writes to Redis starts with (or, braced, contains) this. */
const PREFIX = `cgbench-l2-${process.pid}-${randomBytes(4).toString('hex')}`

/** A plain object whose JSON is exactly VALUE_BYTES long (padded by `notes`). */
function makeValue(i) {
  const value = {
    id: i,
    sku: `SKU-${String(i).padStart(8, '0')}`,
    name: `Item ${i}`,
    groupId: i % 100,
    price: { amount: 1000 + (i % 9000), currency: 'EUR' },
    active: i % 3 !== 0,
    createdAt: '2026-01-15T10:20:30.000Z',
    updatedAt: '2026-11-02T08:00:00.000Z',
    categories: ['tools', 'garden', 'outdoor'],
    attributes: [
      { name: 'color', value: ['red', 'green', 'blue'][i % 3] },
      { name: 'weight', value: `${(i % 50) / 10 + 0.5} kg` },
      { name: 'size', value: ['S', 'M', 'L', 'XL'][i % 4] },
    ],
    description: 'A sturdy item that a cache should hand out quickly, wherever it is stored.',
    notes: '',
  }
  const missing = VALUE_BYTES - JSON.stringify(value).length
  if (missing < 0) throw new Error(`value ${i} is over ${VALUE_BYTES} bytes as JSON`)
  value.notes = 'x'.repeat(missing)
  return value
}

const seconds = (ns) => ns / 1e9
const micros = (ns) => ns / 1e3

// --- data -------------------------------------------------------------------------------------

const keys = Array.from({ length: KEYS }, (_, i) => `item:${i}`)
const values = Array.from({ length: KEYS }, (_, i) => makeValue(i))
const valueBytes = values.reduce((n, v) => n + JSON.stringify(v).length, 0) / KEYS
/** The access order: every key index once, shuffled (Fisher-Yates). */
const order = Array.from({ length: KEYS }, (_, i) => i)
const random = prng(0x5eed)
for (let i = order.length - 1; i > 0; i--) {
  const j = Math.floor(random() * (i + 1))
  ;[order[i], order[j]] = [order[j], order[i]]
}

// --- Redis clean-up ---------------------------------------------------------------------------

/** The connection that checks and cleans up (never timed). Fails fast without a Redis. */
const admin = new Redis(REDIS_URL, { lazyConnect: true, retryStrategy: () => null })
await connectOrExit(admin, 'l2-hit.js', REDIS_URL)

/** Deletes every key containing PREFIX (SCAN + UNLINK); returns how many. */
const cleanUp = () => deleteKeysContaining(admin, PREFIX)

/** Every client opened here, closed at the end. */
const closers = []

try {
  await main()
} finally {
  await Promise.allSettled(closers.map((close) => close()))
  const deleted = await cleanUp()
  console.log(`deleted ${deleted.toLocaleString('en-US')} Redis keys under ${PREFIX}`)
  await admin.quit()
}

async function main() {
  // --- contestants ----------------------------------------------------------------------------

  // (a) raw ioredis GET + JSON.parse, one connection.
  const raw = new Redis(REDIS_URL)
  closers.push(() => raw.quit())
  const rawKey = (key) => `${PREFIX}:raw:${key}`
  const rawKeys = keys.map(rawKey)

  // (b) cachegraph with its bus, no L1, one connection of its own (plus the bus subscriber).
  // Trusted before anything is written, like a process that has been up for a while.
  const cgClient = new Redis(REDIS_URL)
  closers.push(() => cgClient.quit())
  const cg = createCache({
    ttl: '10m',
    l1: false,
    store: redisStore({ client: cgClient, prefix: `${PREFIX}-cg` }),
    bus: redisBus(),
  })
  closers.push(() => cg.close())
  await new Promise((resolve) => cg.on('bus:trusted', resolve))

  // (b') cachegraph on the store alone (no bus, no L1): the same entries, one connection.
  const cgPlainClient = new Redis(REDIS_URL)
  closers.push(() => cgPlainClient.quit())
  const cgPlain = createCache({
    ttl: '10m',
    l1: false,
    store: redisStore({ client: cgPlainClient, prefix: `${PREFIX}-cg` }),
  })
  closers.push(() => cgPlain.close())

  // (c) bentocache, Redis driver as its only layer (no L1 memory layer, no bus).
  const bento = new BentoCache({
    default: 'redis',
    prefix: `${PREFIX}-bento`,
    ttl: '10m',
    stores: {
      redis: bentostore().useL2Layer(redisDriver({ connection: ioredisOptions(REDIS_URL) })),
    },
  })
  closers.push(() => bento.disconnectAll())

  // (d) cacheable with @keyv/redis as its only store (primary; no in-memory layer). @keyv/redis
  // opens its own connection with node-redis, as it does by default.
  const cacheable = new Cacheable({
    primary: createKeyv(REDIS_URL, { namespace: `${PREFIX}-cacheable` }),
    ttl: '10m',
  })
  closers.push(() => cacheable.disconnect())

  console.log(`writing ${KEYS.toLocaleString('en-US')} keys of ~${valueBytes} bytes for each...`)
  for (let start = 0; start < KEYS; start += WRITE_CHUNK) {
    const chunk = range(start, Math.min(KEYS, start + WRITE_CHUNK))
    await Promise.all(
      chunk.map(async (i) => {
        const key = keys[i]
        const value = values[i]
        await raw.set(rawKeys[i], JSON.stringify(value), 'EX', 600)
        const stored = await cg.set(key, value, {
          tags: [`item:${i}`, `group:${i % 100}`, 'all'],
        })
        if (!stored) throw new Error(`cachegraph did not store ${key}`)
        await bento.set({ key, value })
        if (!(await cacheable.set(key, value))) throw new Error(`cacheable did not store ${key}`)
      }),
    )
  }

  // One function per contestant: the value of `key` (index `i`), read the way its library reads.
  const contestants = [
    {
      id: 'raw',
      label: 'ioredis GET + JSON.parse',
      read: async (i) => {
        const text = await raw.get(rawKeys[i])
        return text === null ? undefined : JSON.parse(text)
      },
    },
    {
      id: 'cachegraph',
      label: 'cachegraph get (l1: false, bus, 3 tags)',
      read: (i) => cg.get(keys[i]),
    },
    {
      id: 'cachegraph-store',
      label: 'cachegraph get (l1: false, no bus)',
      read: (i) => cgPlain.get(keys[i]),
    },
    {
      id: 'bentocache',
      label: 'bentocache get (redis driver only)',
      read: (i) => bento.get({ key: keys[i] }),
    },
    {
      id: 'cacheable',
      label: 'cacheable get (@keyv/redis only)',
      read: (i) => cacheable.get(keys[i]),
    },
  ]
  const RATIOS = contestants
    .filter((c) => c.id !== 'raw')
    .map((c) => ({ id: `${c.id} / raw`, of: c.id, to: 'raw' }))

  // Every key must be a hit, with the value written, for every contestant before anything is
  // timed. (64 in flight, as timed.)
  const expectedJson = values.map((v) => JSON.stringify(v))
  for (const c of contestants) {
    let next = 0
    const worker = async () => {
      while (next < KEYS) {
        const i = next++
        const value = await c.read(i)
        if (value === undefined) throw new Error(`${c.label}: ${keys[i]} is not a hit`)
        if (JSON.stringify(value) !== expectedJson[i]) {
          throw new Error(`${c.label}: ${keys[i]} read back another value`)
        }
      }
    }
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
  }
  const cgStatsBefore = cg.stats()

  /**
   * `count` reads by IN_FLIGHT workers over `order` from `start`; each worker awaits one read at
   * a time and takes the next position. Returns the sum of the ids read: every contestant reads
   * the same positions, so the sums must agree.
   */
  async function run(read, start, count) {
    let next = 0
    let sum = 0
    const worker = async () => {
      while (next < count) {
        const i = order[(start + next++) % KEYS]
        const value = await read(i)
        sum += value.id
      }
    }
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
    return sum
  }

  /** Runs every contestant once, in the order rotated by `round`; returns ops/sec by id. */
  async function round(round) {
    const start = (round * 7919) % KEYS
    const opsPerSec = {}
    let expectedSum
    for (let c = 0; c < contestants.length; c++) {
      const contestant = contestants[(c + round) % contestants.length]
      const t0 = process.hrtime.bigint()
      const sum = await run(contestant.read, start, OPS)
      const ns = Number(process.hrtime.bigint() - t0)
      do_not_optimize(sum)
      expectedSum ??= sum
      if (sum !== expectedSum) throw new Error(`${contestant.id} read other values than the others`)
      opsPerSec[contestant.id] = OPS / seconds(ns)
    }
    return opsPerSec
  }

  console.log(`warming up (${WARMUP_ROUNDS} round, not counted)...`)
  for (let r = 0; r < WARMUP_ROUNDS; r++) await round(r)

  console.log(
    `${ROUNDS} rounds x ${OPS.toLocaleString('en-US')} ops per contestant, ${IN_FLIGHT} in flight...`,
  )
  let started = Date.now()
  const rounds = []
  for (let r = 0; r < ROUNDS; r++) {
    const opsPerSec = await round(r)
    const ratios = Object.fromEntries(RATIOS.map((q) => [q.id, opsPerSec[q.of] / opsPerSec[q.to]]))
    rounds.push({ opsPerSec, ratios })
  }
  const throughputSeconds = (Date.now() - started) / 1000
  const cgStats = cg.stats()
  const timedL2Hits = cgStats.l2.hits - cgStatsBefore.l2.hits
  if (timedL2Hits !== (ROUNDS + WARMUP_ROUNDS) * OPS || cgStats.misses !== 0) {
    throw new Error(`cachegraph: ${timedL2Hits} L2 hits and ${cgStats.misses} misses while timed`)
  }
  if (!cgStats.bus?.trusted || cgStats.bus.distrusts !== 0) {
    throw new Error(`cachegraph: the bus did not vouch all along (${JSON.stringify(cgStats.bus)})`)
  }

  // --- (e) invalidate(tag) against the number of dependents -----------------------------------

  console.log('invalidation: writing 1 + 10,000 + 100,000 dependents (setMany, 1,000 a call)...')
  const invClient = new Redis(REDIS_URL)
  closers.push(() => invClient.quit())
  const invCaches = new Map()
  for (const size of INVALIDATION_SIZES) {
    const cache = createCache({
      ttl: '10m',
      l1: false,
      store: redisStore({ client: invClient, prefix: `${PREFIX}-inv${size}` }),
    })
    closers.push(() => cache.close())
    for (let start = 0; start < size; start += WRITE_CHUNK) {
      const entries = range(start, Math.min(size, start + WRITE_CHUNK)).map((i) => ({
        key: `d:${i}`,
        value: { id: i, name: `Item ${i}` },
        tags: ['hot', `item:${i}`],
      }))
      const stored = await cache.setMany(entries)
      if (!stored.every(Boolean)) throw new Error(`invalidation: not every dependent was stored`)
    }
    if ((await cache.get(`d:${size - 1}`))?.id !== size - 1) {
      throw new Error(`invalidation: d:${size - 1} is not a hit after writing`)
    }
    invCaches.set(size, cache)
  }

  /** Times `count` awaited calls of `call` one by one; durations in nanoseconds. */
  async function timeEach(call, count) {
    const durations = new Array(count)
    for (let n = 0; n < count; n++) {
      const t0 = process.hrtime.bigint()
      await call(n)
      durations[n] = Number(process.hrtime.bigint() - t0)
    }
    return durations
  }

  // The subjects: one cache per size, and, for reference, one raw GET of a missing key (one
  // round trip doing nothing), timed the same way in the same rotation.
  const invSubjects = [
    ...INVALIDATION_SIZES.map((size) => ({
      id: size,
      call: () => invCaches.get(size).invalidate('hot'),
    })),
    { id: 'get', call: (n) => raw.get(`${PREFIX}:missing:${n}`) },
  ]
  const perRound = Math.ceil(INVALIDATIONS / INVALIDATION_ROUNDS)
  console.log(`invalidation: warm-up, then ${INVALIDATION_ROUNDS} rounds x ${perRound} per size...`)
  started = Date.now()
  for (const subject of invSubjects) await timeEach(subject.call, perRound)
  const invSamples = new Map(invSubjects.map((subject) => [subject.id, []]))
  for (let r = 0; r < INVALIDATION_ROUNDS; r++) {
    for (let s = 0; s < invSubjects.length; s++) {
      const subject = invSubjects[(s + r) % invSubjects.length]
      invSamples.get(subject.id).push(...(await timeEach(subject.call, perRound)))
    }
  }
  const invalidationSeconds = (Date.now() - started) / 1000
  for (const [size, cache] of invCaches) {
    for (const i of [0, size - 1]) {
      if ((await cache.get(`d:${i}`)) !== undefined) {
        throw new Error(`invalidation: d:${i} of ${size} is still a hit after invalidate('hot')`)
      }
    }
  }
  const invalidation = {}
  for (const subject of invSubjects) {
    invalidation[subject.id === 'get' ? 'rawGetMissing' : subject.id] = latency(
      invSamples.get(subject.id),
    )
  }
  const invFlatRatio = invalidation[100_000].medianUs / invalidation[1].medianUs

  // --- (f) the first read after an invalidation, against a raw GET of a missing key ------------

  console.log(`first read after an invalidation: ${FIRST_READS} pairs after 100 warm-up pairs...`)
  const firstRead = []
  const firstReadPlain = []
  const missingGet = []
  const firstReadKeys = Math.min(KEYS, FIRST_READS + 100)
  for (let n = 0; n < firstReadKeys; n++) {
    const i = order[n]
    await cg.invalidate(`item:${i}`)
    const timed = {}
    const timeGet = (id, cache) => async () => {
      const t0 = process.hrtime.bigint()
      const value = await cache.get(keys[i])
      timed[id] = Number(process.hrtime.bigint() - t0)
      if (value !== undefined) throw new Error(`${keys[i]} is still a hit after invalidation`)
    }
    const timeRaw = async () => {
      const t0 = process.hrtime.bigint()
      const text = await raw.get(`${PREFIX}:missing:${i}`)
      timed.raw = Number(process.hrtime.bigint() - t0)
      if (text !== null) throw new Error('a missing key is there')
    }
    // Rotate which of the three goes first.
    const three = [timeGet('cg', cg), timeGet('plain', cgPlain), timeRaw]
    for (let k = 0; k < 3; k++) await three[(n + k) % 3]()
    if (n >= 100) {
      firstRead.push(timed.cg)
      firstReadPlain.push(timed.plain)
      missingGet.push(timed.raw)
    }
  }
  const firstReadResult = {
    pairs: firstRead.length,
    cachegraph: latency(firstRead),
    cachegraphNoBus: latency(firstReadPlain),
    rawGetMissing: latency(missingGet),
    /** For information: the median of the per-pair ratios. */
    medianPairRatio: median(firstRead.map((ns, n) => ns / missingGet[n])),
  }
  firstReadResult.ratio =
    firstReadResult.cachegraph.medianUs / firstReadResult.rawGetMissing.medianUs

  // --- report ---------------------------------------------------------------------------------

  const { summary, ratios } = summarize(
    rounds,
    contestants,
    RATIOS.map((q) => q.id),
  )
  const maxInvalidationMedian = Math.max(
    ...INVALIDATION_SIZES.map((size) => invalidation[size].medianUs),
  )
  const targets = [
    {
      id: 'cachegraph L2 hit (with bus) >= 0.8 x raw GET + JSON.parse',
      value: ratios['cachegraph / raw'].median,
      met: ratios['cachegraph / raw'].median >= TARGETS.vsRawGet,
    },
    {
      id: 'invalidate flat: median(100,000) / median(1) <= 2',
      value: invFlatRatio,
      met: invFlatRatio <= TARGETS.invalidateFlat,
    },
    {
      id: 'invalidate < 2 ms (median, every size; in ms)',
      value: maxInvalidationMedian / 1000,
      met: maxInvalidationMedian < TARGETS.invalidateMs * 1000,
    },
    {
      id: 'first read after invalidation <= 1.5 x raw GET of a missing key',
      value: firstReadResult.ratio,
      met: firstReadResult.ratio <= TARGETS.firstRead,
    },
  ]

  const fmtUs = (n) => n.toFixed(1).padStart(10)
  const env = environment()
  console.log()
  console.log(
    `L2 hit, Redis ${redisVersion(await admin.info('server'))} at ${new URL(REDIS_URL).host}, ` +
      `${KEYS.toLocaleString('en-US')} keys, ~${Math.round(valueBytes)}-byte JSON values, ` +
      `${IN_FLIGHT} in flight, shuffled keys`,
  )
  console.log(describe(env))
  console.log(
    `${ROUNDS} rounds x ${OPS.toLocaleString('en-US')} ops per contestant, rotating order; ` +
      `${throughputSeconds.toFixed(1)} s`,
  )
  console.log()
  printThroughput(contestants, summary, ratios, 40)
  console.log()
  console.log(
    `invalidate('hot') on the Redis store, one awaited at a time; ${invalidationSeconds.toFixed(1)} s`,
  )
  const latencyHeader = ['median µs', 'p10 µs', 'p90 µs', 'p99 µs'].map((h) => h.padStart(10))
  const latencyRow = (label, x) =>
    console.log(
      `${label.padEnd(40)} ${[x.medianUs, x.p10Us, x.p90Us, x.p99Us].map(fmtUs).join(' ')}`,
    )
  console.log(`${'entries depending on the tag'.padEnd(40)} ${latencyHeader.join(' ')}`)
  for (const size of INVALIDATION_SIZES) {
    latencyRow(size.toLocaleString('en-US'), invalidation[size])
  }
  latencyRow('(reference: ioredis GET of a missing key)', invalidation.rawGetMissing)
  console.log(`ratio 100,000 / 1: ${invFlatRatio.toFixed(2)}`)
  console.log()
  console.log(`first read after an invalidation (${firstReadResult.pairs} pairs, one at a time)`)
  console.log(`${''.padEnd(40)} ${latencyHeader.join(' ')}`)
  latencyRow('cachegraph get with bus (invalidated)', firstReadResult.cachegraph)
  latencyRow('cachegraph get, no bus (for information)', firstReadResult.cachegraphNoBus)
  latencyRow('ioredis GET of a missing key', firstReadResult.rawGetMissing)
  console.log(
    `median of per-pair ratios (for information): ${firstReadResult.medianPairRatio.toFixed(2)}`,
  )
  console.log(`ratio of medians: ${firstReadResult.ratio.toFixed(2)}`)
  console.log()
  for (const t of targets) {
    console.log(`target ${t.id}: ${t.value.toFixed(2)} -> ${t.met ? 'MET' : 'NOT MET'}`)
  }

  const result = {
    benchmark: 'l2-hit',
    ...env,
    redis: redisVersion(await admin.info('server')),
    method: {
      keys: KEYS,
      valueBytes: Math.round(valueBytes),
      tagsPerEntry: 3,
      inFlight: IN_FLIGHT,
      access: `pre-shuffled order, ${IN_FLIGHT} workers each awaiting one get at a time`,
      rounds: ROUNDS,
      warmupRounds: WARMUP_ROUNDS,
      opsPerContestantPerRound: OPS,
      order: 'rotating',
      ratio: 'median of per-round ratios',
      invalidation: {
        sizes: INVALIDATION_SIZES,
        timedPerSize: perRound * INVALIDATION_ROUNDS,
        warmupPerSize: perRound,
        rounds: INVALIDATION_ROUNDS,
      },
      firstRead: { pairs: firstReadResult.pairs, warmupPairs: 100 },
    },
    contestants: summary,
    ratios,
    invalidation: { ...invalidation, ratio100kTo1: invFlatRatio },
    firstRead: firstReadResult,
    targets,
    cachegraphStats: { l2Hits: cgStats.l2.hits, misses: cgStats.misses, bus: cgStats.bus },
    rounds,
  }
  console.log()
  // The JSON line leaves out the per-round figures (they are in the results file).
  console.log(JSON.stringify({ ...result, rounds: undefined }))
  writeResult('l2-hit', result)

  if (process.argv.includes('--check') && targets.some((t) => !t.met)) process.exitCode = 1
}

/** Median, p10, p90 and p99 of durations in nanoseconds, in µs. */
function latency(ns) {
  return {
    samples: ns.length,
    medianUs: micros(median(ns)),
    p10Us: micros(percentile(ns, 0.1)),
    p90Us: micros(percentile(ns, 0.9)),
    p99Us: micros(percentile(ns, 0.99)),
  }
}

function range(from, to) {
  return Array.from({ length: to - from }, (_, n) => from + n)
}

function redisVersion(info) {
  return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown'
}
