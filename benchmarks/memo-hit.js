// Overhead of a memoized call on a hit (cache.wrap) over a plain getOrSet hit, same cache, same
// entries. Contestants interleaved in one process, rotating order, median of per-round ratios.
import { createCache } from 'cachegraph'

import { describe, environment, median, positiveInt, writeResult } from './lib.js'

const KEYS = 100_000
const ROUNDS = positiveInt(process.env.BENCH_ROUNDS, 15)

const cache = createCache({ ttl: '5m', l1: { maxEntries: 200_000 } })
const load = (id) => ({ id, name: `User ${id}`, tags: ['a', 'b'] })
const getUser = cache.wrap(async (id) => load(id), {
  name: 'getUser',
  tags: (args) => [`user:${args[0]}`],
})
const ids = Array.from({ length: KEYS }, (_, i) => `${i}`)
const keys = ids.map((id) => getUser.key(id))
for (const id of ids) await getUser(id) // fills the entries both contestants read
const loader = () => {
  throw new Error('a hit must not load')
}

async function runGetOrSet() {
  let sum = 0
  for (const key of keys) sum += (await cache.getOrSet(key, loader)).tags.length
  return sum
}
async function runWrap() {
  let sum = 0
  for (const id of ids) sum += (await getUser(id)).tags.length
  return sum
}

const contestants = [
  { id: 'getOrSet', run: runGetOrSet },
  { id: 'wrap', run: runWrap },
]
const samples = { getOrSet: [], wrap: [] }
const ratios = []
for (let round = -1; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? contestants : [...contestants].reverse()
  const opsPerSec = {}
  for (const c of order) {
    const t0 = process.hrtime.bigint()
    await c.run()
    opsPerSec[c.id] = KEYS / (Number(process.hrtime.bigint() - t0) / 1e9)
  }
  if (round < 0) continue // warm-up
  samples.getOrSet.push(opsPerSec.getOrSet)
  samples.wrap.push(opsPerSec.wrap)
  ratios.push(opsPerSec.wrap / opsPerSec.getOrSet)
}

const env = environment()
console.log(`\nmemoized hit (wrap) vs getOrSet hit, ${describe(env)}`)
console.log(`getOrSet hit  ${Math.round(median(samples.getOrSet)).toLocaleString('en-US')} ops/s`)
console.log(`wrap hit      ${Math.round(median(samples.wrap)).toLocaleString('en-US')} ops/s`)
console.log(`ratio wrap / getOrSet (median of ${ROUNDS} rounds): ${median(ratios).toFixed(3)}`)
writeResult('memo-hit', {
  benchmark: 'memo-hit',
  ...env,
  method: { keys: KEYS, rounds: ROUNDS, ratio: 'median of per-round ratios' },
  opsPerSec: { getOrSet: median(samples.getOrSet), wrap: median(samples.wrap) },
  ratio: median(ratios),
})
