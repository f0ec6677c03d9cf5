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
// Environment: BENCH_INVALIDATIONS (per size per round, default 2000), BENCH_ROUNDS (default 5).
// `node invalidate.js --check` exits with 1 when the cost is not constant.

import { createCache } from 'cachegraph'
import { measure } from 'mitata'

import { describe, environment, median, percentile, positiveInt, writeResult } from './lib.js'

const SIZES = [1, 10_000, 100_000]
const INVALIDATIONS = positiveInt(process.env.BENCH_INVALIDATIONS, 2_000)
const ROUNDS = positiveInt(process.env.BENCH_ROUNDS, 5)
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

console.log('warming up...')
for (const cache of caches.values()) await timeInvalidations(cache, INVALIDATIONS)

console.log(`${ROUNDS} rounds x ${INVALIDATIONS.toLocaleString('en-US')} invalidations per size...`)
const samples = new Map(SIZES.map((size) => [size, []]))
for (let r = 0; r < ROUNDS; r++) {
  for (let i = 0; i < SIZES.length; i++) {
    const size = SIZES[(i + r) % SIZES.length]
    samples.get(size).push(...(await timeInvalidations(caches.get(size), INVALIDATIONS)))
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
  target: { id: `O(1): ratio 100,000 / 1 <= ${MAX_RATIO}`, met: constant },
}
console.log()
console.log(JSON.stringify(result))
writeResult('invalidate', result)

await Promise.all([...caches.values()].map((cache) => cache.close()))
if (process.argv.includes('--check') && !constant) process.exitCode = 1
