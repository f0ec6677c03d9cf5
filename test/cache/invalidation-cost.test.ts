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

describe('invalidation cost does not grow with dependents', () => {
  it('1 vs 100,000 dependents: same cost (generous 5x bound), one store call each', async () => {
    const store = counting(memoryStore({ maxEntries: 200_000 }))
    const cache = createCache({ store, l1: { maxEntries: 200_000 } })
    const entries = Array.from({ length: 100_000 }, (_, i) => ({
      key: `hot:${i}`,
      value: i,
      tags: ['hot', `item:${i}`],
    }))
    for (let i = 0; i < entries.length; i += 10_000)
      await cache.setMany(entries.slice(i, i + 10_000))
    await cache.set('cold', 1, { tags: ['cold'] })
    expect(await cache.get('hot:99999')).toBe(99_999)

    const before = store.calls.invalidate ?? 0
    const hot: number[] = []
    const cold: number[] = []
    for (let round = 0; round < 400; round++) {
      // Interleaved, so drift and GC pauses hit both sides alike.
      for (const [tag, samples] of round % 2 === 0
        ? ([
            ['hot', hot],
            ['cold', cold],
          ] as const)
        : ([
            ['cold', cold],
            ['hot', hot],
          ] as const)) {
        const t0 = process.hrtime.bigint()
        await cache.invalidate(tag)
        samples.push(Number(process.hrtime.bigint() - t0))
      }
    }
    expect((store.calls.invalidate ?? 0) - before).toBe(800)
    expect(median(hot) / median(cold)).toBeLessThan(5)
    // And the dependents really are gone, in both tiers.
    expect(await cache.getMany(['hot:0', 'hot:50000', 'hot:99999', 'cold'])).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ])
    const other = createCache({ store })
    expect(await other.get('hot:1234')).toBeUndefined()
  })
})
