// Invalidation cost: `await cache.invalidate('hot')` with 1, 10,000 and 100,000 entries depending
// on the tag 'hot' (L1-only cache). Invalidation is meant to be O(1) in the number of dependents,
// so the three figures should match.
//
// Method (see README.md): one cache per size, filled once; each entry is set with the tags
// ['hot', 'item:<i>']. Nothing is re-set between invalidations (they stay O(1) whatever is still
// cached). Rounds alternate between the sizes; each round times INVALIDATIONS single awaited
// invalidations one by one. The reported figure is the median time of one invalidation over all
// rounds. mitata's `measure` gives a second, batched opinion (its p50 per call).
//
// Competitors, at the same sizes and in the same rotation:
// - bentocache `deleteByTag({ tags: ['hot'] })` on a memory-only bentocache whose entries carry
//   the same tags. Its invalidation is lazy: the call stores a timestamp for the tag, and each
//   dependent is checked (and expired) when it is next read. So the first `get` of a dependent
//   after the call is timed too, for bentocache and cachegraph alike (the entry re-set, untimed,
//   before each pair).
// - cacheable (2.5) `tags.invalidateTag('hot')` on `new Cacheable({ tags: true })` (its in-memory
//   primary), entries set with the same tags. Also lazy: the call bumps the tag's version, a read
//   compares the entry's snapshot of its tags' versions; its first read is timed too.
// - lru-cache has no tags: "lru-cache + a Map<tag, Set<key>> index" deletes every dependent key
//   (and drops it from its other tags' sets), which is what a tagless cache must do. Only the
//   first invalidation after a fill does that work (the next ones find the set empty), so each
//   timed call follows a re-fill (untimed): BENCH_INDEX_INVALIDATIONS (default 10) per size per
//   round.
//
// Environment: BENCH_INVALIDATIONS (per size per round, default 2000), BENCH_ROUNDS (default 5),
// BENCH_INDEX_INVALIDATIONS (default 10), BENCH_FIRST_READS (per size per round, default 200).
// `node invalidate.js --check` exits with 1 when the cost is not constant.

import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { Cacheable } from 'cacheable'
import { createCache } from 'cachegraph'
import { LRUCache } from 'lru-cache'
import { measure } from 'mitata'

import { describe, environment, median, percentile, positiveInt, writeResult } from './lib.js'

const SIZES = [1, 10_000, 100_000]
const INVALIDATIONS = positiveInt(process.env.BENCH_INVALIDATIONS, 2_000)
const ROUNDS = positiveInt(process.env.BENCH_ROUNDS, 5)
const INDEX_INVALIDATIONS = positiveInt(process.env.BENCH_INDEX_INVALIDATIONS, 10)
const FIRST_READS = positiveInt(process.env.BENCH_FIRST_READS, 200)
/** O(1) means the 100,000-dependent median stays within this factor of the 1-dependent one. */
const MAX_RATIO = 2

const caches = new Map()
for (const size of SIZES) {
  const cache = createCache({ ttl: '5m', l1: { maxEntries: Math.max(size, 10) } })
  for (let i = 0; i < size; i++) {
    const stored = await cache.set(
      `item:${i}`,
      { id: i, name: `Item ${i}` },
      {
        tags: ['hot', `item:${i}`],
      },
    )
    if (!stored) throw new Error(`not stored: item:${i}`)
  }
  caches.set(size, cache)
}

/** A bentocache with only its memory layer (no L2, no bus), defaults otherwise. */
function bentoMemory(size) {
  return new BentoCache({
    default: 'memory',
    ttl: '5m',
    stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: Math.max(size, 10) * 2 })) },
  })
}

const bentos = new Map()
for (const size of SIZES) {
  const bento = bentoMemory(size)
  for (let i = 0; i < size; i++) {
    await bento.set({ key: `item:${i}`, value: { id: i, name: `Item ${i}` }, tags: tagsOf(i) })
  }
  bentos.set(size, bento)
}

const cacheables = new Map()
for (const size of SIZES) {
  const cacheable = new Cacheable({ ttl: '5m', tags: true })
  for (let i = 0; i < size; i++) {
    await cacheable.set(`item:${i}`, { id: i, name: `Item ${i}` }, { tags: tagsOf(i) })
  }
  cacheables.set(size, cacheable)
}

function tagsOf(i) {
  return ['hot', `item:${i}`]
}

/**
 * lru-cache with a tag index: tag -> keys, and key -> tags so an invalidated key also leaves its
 * other tags' sets (else they would grow for ever and later delete re-set keys).
 */
class IndexedLru {
  lru
  keysByTag = new Map()
  tagsByKey = new Map()

  constructor(size) {
    this.lru = new LRUCache({ max: Math.max(size, 10) * 2, ttl: 300_000 })
  }

  set(key, value, tags) {
    this.lru.set(key, value)
    this.tagsByKey.set(key, tags)
    for (const tag of tags) {
      let keys = this.keysByTag.get(tag)
      if (keys === undefined) this.keysByTag.set(tag, (keys = new Set()))
      keys.add(key)
    }
  }

  async invalidate(tag) {
    const keys = this.keysByTag.get(tag)
    if (keys === undefined) return
    this.keysByTag.delete(tag)
    for (const key of keys) {
      this.lru.delete(key)
      for (const other of this.tagsByKey.get(key)) {
        if (other !== tag) this.keysByTag.get(other)?.delete(key)
      }
      this.tagsByKey.delete(key)
    }
  }
}

const indexed = new Map(SIZES.map((size) => [size, new IndexedLru(size)]))
function fillIndexed(index, size) {
  for (let i = 0; i < size; i++) index.set(`item:${i}`, { id: i, name: `Item ${i}` }, tagsOf(i))
}

/** Times `count` invalidations one by one; returns their durations in nanoseconds. */
async function timeInvalidations(cache, count) {
  const durations = new Array(count)
  for (let n = 0; n < count; n++) {
    const t0 = process.hrtime.bigint()
    await cache.invalidate('hot')
    durations[n] = Number(process.hrtime.bigint() - t0)
  }
  return durations
}

/** The same for bentocache's `deleteByTag`. */
async function timeDeleteByTag(bento, count) {
  const durations = new Array(count)
  for (let n = 0; n < count; n++) {
    const t0 = process.hrtime.bigint()
    await bento.deleteByTag({ tags: ['hot'] })
    durations[n] = Number(process.hrtime.bigint() - t0)
  }
  return durations
}

/** The same for cacheable's `tags.invalidateTag`. */
async function timeInvalidateTag(cacheable, count) {
  const durations = new Array(count)
  for (let n = 0; n < count; n++) {
    const t0 = process.hrtime.bigint()
    await cacheable.tags.invalidateTag('hot')
    durations[n] = Number(process.hrtime.bigint() - t0)
  }
  return durations
}

/** The indexed lru-cache: each timed invalidation follows a re-fill, so each one does the work. */
async function timeIndexed(index, size, count) {
  const durations = new Array(count)
  for (let n = 0; n < count; n++) {
    fillIndexed(index, size)
    const t0 = process.hrtime.bigint()
    await index.invalidate('hot')
    durations[n] = Number(process.hrtime.bigint() - t0)
  }
  if (index.lru.size !== 0) throw new Error(`indexed lru-cache kept ${index.lru.size} entries`)
  return durations
}

/**
 * The deferred part: re-set one dependent (untimed), invalidate 'hot' (untimed), then time the
 * first `get` of that dependent, which must miss. Dependents are taken in turn through the cache.
 */
async function timeFirstReads(size, count, offset) {
  const cache = caches.get(size)
  const bento = bentos.get(size)
  const cacheable = cacheables.get(size)
  const out = {
    cachegraph: new Array(count),
    bentocache: new Array(count),
    cacheable: new Array(count),
  }
  for (let n = 0; n < count; n++) {
    const i = (offset + n) % size
    const key = `item:${i}`
    const value = { id: i, name: `Item ${i}` }
    await cache.set(key, value, { tags: tagsOf(i) })
    await cache.invalidate('hot')
    let t0 = process.hrtime.bigint()
    const fromCg = await cache.get(key)
    out.cachegraph[n] = Number(process.hrtime.bigint() - t0)
    await bento.set({ key, value, tags: tagsOf(i) })
    // bentocache compares the entry's creation time with the tag's, both Date.now() in ms: an
    // entry created in the same ms as the deleteByTag counts as invalidated, as wanted here.
    await bento.deleteByTag({ tags: ['hot'] })
    t0 = process.hrtime.bigint()
    const fromBento = await bento.get({ key })
    out.bentocache[n] = Number(process.hrtime.bigint() - t0)
    await cacheable.set(key, value, { tags: tagsOf(i) })
    await cacheable.tags.invalidateTag('hot')
    t0 = process.hrtime.bigint()
    const fromCacheable = await cacheable.get(key)
    out.cacheable[n] = Number(process.hrtime.bigint() - t0)
    if (fromCg !== undefined || fromBento !== undefined || fromCacheable !== undefined) {
      throw new Error(`${key} was read after its tag was invalidated`)
    }
  }
  return out
}

console.log('warming up...')
for (const cache of caches.values()) await timeInvalidations(cache, INVALIDATIONS)
for (const bento of bentos.values()) await timeDeleteByTag(bento, INVALIDATIONS)
for (const cacheable of cacheables.values()) await timeInvalidateTag(cacheable, INVALIDATIONS)
for (const [size, index] of indexed) await timeIndexed(index, size, 2)
for (const size of SIZES) await timeFirstReads(size, Math.min(FIRST_READS, 50), 0)

console.log(
  `${ROUNDS} rounds x ${INVALIDATIONS.toLocaleString('en-US')} invalidations per size ` +
    `(${INDEX_INVALIDATIONS} for the indexed lru-cache, ${FIRST_READS} first reads)...`,
)
const samples = new Map(SIZES.map((size) => [size, []]))
const bentoSamples = new Map(SIZES.map((size) => [size, []]))
const cacheableSamples = new Map(SIZES.map((size) => [size, []]))
const indexSamples = new Map(SIZES.map((size) => [size, []]))
const firstReadSamples = new Map(
  SIZES.map((size) => [size, { cachegraph: [], bentocache: [], cacheable: [] }]),
)
for (let r = 0; r < ROUNDS; r++) {
  for (let i = 0; i < SIZES.length; i++) {
    const size = SIZES[(i + r) % SIZES.length]
    samples.get(size).push(...(await timeInvalidations(caches.get(size), INVALIDATIONS)))
    bentoSamples.get(size).push(...(await timeDeleteByTag(bentos.get(size), INVALIDATIONS)))
    cacheableSamples
      .get(size)
      .push(...(await timeInvalidateTag(cacheables.get(size), INVALIDATIONS)))
    indexSamples
      .get(size)
      .push(...(await timeIndexed(indexed.get(size), size, INDEX_INVALIDATIONS)))
    const reads = await timeFirstReads(size, FIRST_READS, 50 + r * FIRST_READS)
    firstReadSamples.get(size).cachegraph.push(...reads.cachegraph)
    firstReadSamples.get(size).bentocache.push(...reads.bentocache)
    firstReadSamples.get(size).cacheable.push(...reads.cacheable)
  }
}

const mitataP50 = new Map()
for (const size of SIZES) {
  const cache = caches.get(size)
  const stats = await measure(async () => {
    await cache.invalidate('hot')
  })
  mitataP50.set(size, stats.p50)
}

// Every entry must really be gone: a get after the invalidations misses.
for (const [size, cache] of caches) {
  const key = `item:${size - 1}`
  if ((await cache.get(key)) !== undefined) throw new Error(`${key} survived the invalidation`)
}
for (const [size, bento] of bentos) {
  const key = `item:${size - 1}`
  if ((await bento.get({ key })) !== undefined) throw new Error(`bentocache kept ${key}`)
}
for (const [size, cacheable] of cacheables) {
  const key = `item:${size - 1}`
  if ((await cacheable.get(key)) !== undefined) throw new Error(`cacheable kept ${key}`)
}

/** Median and p99 in µs of durations in ns. */
function latency(xs) {
  return { samples: xs.length, medianUs: median(xs) / 1000, p99Us: percentile(xs, 0.99) / 1000 }
}

const bySize = {}
for (const size of SIZES) {
  const xs = samples.get(size)
  bySize[size] = {
    dependents: size,
    invalidations: xs.length,
    medianUs: median(xs) / 1000,
    p99Us: percentile(xs, 0.99) / 1000,
    mitataP50Us: mitataP50.get(size) / 1000,
  }
}
const ratio = bySize[100_000].medianUs / bySize[1].medianUs
const competitors = {
  'bentocache.deleteByTag': Object.fromEntries(
    SIZES.map((size) => [size, latency(bentoSamples.get(size))]),
  ),
  'cacheable.tags.invalidateTag': Object.fromEntries(
    SIZES.map((size) => [size, latency(cacheableSamples.get(size))]),
  ),
  'lru-cache+index': Object.fromEntries(
    SIZES.map((size) => [size, latency(indexSamples.get(size))]),
  ),
}
const firstRead = Object.fromEntries(
  SIZES.map((size) => [
    size,
    {
      cachegraph: latency(firstReadSamples.get(size).cachegraph),
      bentocache: latency(firstReadSamples.get(size).bentocache),
      cacheable: latency(firstReadSamples.get(size).cacheable),
    },
  ]),
)

const constant = ratio <= MAX_RATIO

const env = environment()
console.log()
console.log(`invalidate('hot'), L1-only cache`)
console.log(describe(env))
console.log()
console.log(
  `${'entries tagged hot'.padStart(18)} ${'median us'.padStart(10)} ${'p99 us'.padStart(10)} ` +
    `${'mitata p50 us'.padStart(14)}`,
)
for (const size of SIZES) {
  const s = bySize[size]
  console.log(
    `${size.toLocaleString('en-US').padStart(18)} ${s.medianUs.toFixed(2).padStart(10)} ` +
      `${s.p99Us.toFixed(2).padStart(10)} ${s.mitataP50Us.toFixed(2).padStart(14)}`,
  )
}
console.log()
console.log(
  `${'median us (p99)'.padEnd(26)} ${SIZES.map((s) => s.toLocaleString('en-US').padStart(20)).join(' ')}`,
)
const cell = (x) => `${x.medianUs.toFixed(2)} (${x.p99Us.toFixed(2)})`.padStart(20)
const line = (label, bySize) =>
  console.log(`${label.padEnd(26)} ${SIZES.map((s) => cell(bySize[s])).join(' ')}`)
line('cachegraph invalidate', bySize)
for (const [id, figures] of Object.entries(competitors)) line(id, figures)
const firstReadOf = (who) => Object.fromEntries(SIZES.map((s) => [s, firstRead[s][who]]))
line('first get: cachegraph', firstReadOf('cachegraph'))
line('first get: bentocache', firstReadOf('bentocache'))
line('first get: cacheable', firstReadOf('cacheable'))
console.log()
console.log(`ratio 100,000 / 1 (medians): ${ratio.toFixed(2)}`)
console.log(`target O(1) (ratio 100,000 / 1 <= ${MAX_RATIO}): ${constant ? 'MET' : 'NOT MET'}`)

const result = {
  benchmark: 'invalidate',
  ...env,
  method: {
    cache: 'L1 only',
    tags: "['hot', 'item:<i>'] per entry",
    rounds: ROUNDS,
    invalidationsPerSizePerRound: INVALIDATIONS,
    figure: 'median of single awaited invalidations, timed one by one',
  },
  sizes: bySize,
  ratio100kTo1: ratio,
  competitors,
  firstRead,
  competitorMethod: {
    'bentocache.deleteByTag':
      'memory-only BentoCache, same tags; the call alone (lazy: dependents are checked on read)',
    'cacheable.tags.invalidateTag':
      'new Cacheable({ tags: true }) (in-memory primary), same tags; the call alone (lazy: tag versions checked on read)',
    'lru-cache+index':
      'lru-cache + Map<tag, Set<key>> (+ key -> tags), deletes every dependent; re-filled (untimed) before each timed call',
    indexInvalidationsPerSizePerRound: INDEX_INVALIDATIONS,
    firstRead: 're-set one dependent, invalidate (untimed), time its first get (a miss)',
    firstReadsPerSizePerRound: FIRST_READS,
  },
  target: { id: `O(1): ratio 100,000 / 1 <= ${MAX_RATIO}`, met: constant },
}
console.log()
console.log(JSON.stringify(result))
writeResult('invalidate', result)

await Promise.all([...caches.values()].map((cache) => cache.close()))
await Promise.all([...bentos.values()].map((bento) => bento.disconnectAll()))
if (process.argv.includes('--check') && !constant) process.exitCode = 1
