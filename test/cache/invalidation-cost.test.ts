import { describe, expect, it } from 'vitest'

import { createCache, memoryStore, type Store } from '../../src/index.js'

/** Counts calls per store method: an invalidation must be one call whatever its dependents. */
function counting(store: Store): Store & { calls: Record<string, number> } {
  const calls: Record<string, number> = {}
  const count = <T>(name: string, result: T): T => {
    calls[name] = (calls[name] ?? 0) + 1
    return result
  }
  return {
    name: store.name,
    calls,
    read: (keys) => count('read', store.read(keys)),
    write: (entries, options) => count('write', store.write(entries, options)),
    invalidate: (tags, options) => count('invalidate', store.invalidate(tags, options)),
    close: () => store.close(),
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

describe.each([
  ['L1 only', false],
  ['L1 + shared store', true],
])('invalidation cost does not grow with dependents (%s)', (_name, withStore) => {
  it('1 vs 100,000 dependents: same cost (generous 5x bound), one store call each', async () => {
    // Two caches: one whose tag has a single dependent, one with 100,000 dependents written by
    // plain sets (which also fill its tag registry with 100,000 key records).
    const smallStore = counting(memoryStore())
    const small = createCache(withStore ? { store: smallStore } : {})
    await small.set('one', 1, { tags: ['hot'] })
    const bigStore = counting(memoryStore({ maxEntries: 200_000 }))
    const big = createCache({
      ...(withStore ? { store: bigStore } : {}),
      l1: { maxEntries: 200_000 },
      maxTags: 200_000,
    })
    const entries = Array.from({ length: 100_000 }, (_, i) => ({
      key: `hot:${i}`,
      value: i,
      tags: ['hot', `item:${i}`],
    }))
    for (let i = 0; i < entries.length; i += 10_000) await big.setMany(entries.slice(i, i + 10_000))
    expect(await big.get('hot:99999')).toBe(99_999)

    const before = [smallStore.calls.invalidate ?? 0, bigStore.calls.invalidate ?? 0]
    const samples = { small: [] as number[], big: [] as number[] }
    for (let round = 0; round < 400; round++) {
      // Interleaved, so drift and GC pauses hit both sides alike.
      const order = round % 2 === 0 ? (['small', 'big'] as const) : (['big', 'small'] as const)
      for (const side of order) {
        const cache = side === 'small' ? small : big
        const t0 = process.hrtime.bigint()
        await cache.invalidate('hot')
        samples[side].push(Number(process.hrtime.bigint() - t0))
      }
    }
    const calls = withStore ? 400 : 0
    expect((smallStore.calls.invalidate ?? 0) - (before[0] as number)).toBe(calls)
    expect((bigStore.calls.invalidate ?? 0) - (before[1] as number)).toBe(calls)
    expect(median(samples.big) / median(samples.small)).toBeLessThan(5)
    // And the dependents really are gone, in both tiers.
    expect(await big.getMany(['hot:0', 'hot:50000', 'hot:99999'])).toEqual([
      undefined,
      undefined,
      undefined,
    ])
    if (withStore) expect(await createCache({ store: bigStore }).get('hot:1234')).toBeUndefined()
  })
})
