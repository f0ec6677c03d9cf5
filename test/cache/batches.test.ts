import { afterAll, describe, expect, it } from 'vitest'

import type { Cache } from '../../src/cache/cache.js'
import type { CacheEvents } from '../../src/cache/events.js'
import { createCache, memoryStore, type Store } from '../../src/index.js'
import { faultyStore } from '../../src/testing/index.js'
import { ALL_TIERS, trusted } from '../helpers/tiers.js'

const caches: Cache[] = []
afterAll(() => Promise.allSettled(caches.map((cache) => cache.close())))

const range = (n: number) => Array.from({ length: n }, (_, i) => `k${i}`)

describe.each(ALL_TIERS)('getMany of 10,000 keys: %s', (_, tiers) => {
  it('finds every one of them', async () => {
    const cache = createCache({ namespace: 'many', ...tiers() })
    caches.push(cache)
    // Before its bus vouches, a process starts over once (first contact): let that happen first.
    await trusted(cache)
    const errors: CacheEvents['error'][] = []
    cache.on('error', (event) => errors.push(event))
    const keys = range(10_000)
    const stored = await cache.setMany(keys.map((key, i) => ({ key, value: i, ttl: '5m' })))
    expect(stored.filter(Boolean)).toHaveLength(10_000)
    const values = await cache.getMany<number>(keys)
    expect(values.filter((v) => v !== undefined)).toHaveLength(10_000)
    expect(values[9_999]).toBe(9_999)
    expect(errors).toEqual([])
  }, 60_000)
})

/** A store whose reads take `msPer1000` for every 1,000 keys (at least one step). */
function slowReads(inner: Store, msPer1000: number): Store {
  return Object.assign(Object.create(inner) as Store, {
    async read(keys: readonly string[]) {
      const steps = Math.max(1, Math.ceil(keys.length / 1_000))
      await new Promise((resolve) => setTimeout(resolve, steps * msPer1000))
      return inner.read(keys)
    },
  })
}

describe('the read deadline of a batch', () => {
  it('applies to each part of it, so a big batch is not cut off as a whole', async () => {
    const store = memoryStore()
    const writer = createCache({ namespace: 'slow', store })
    const reader = createCache({
      namespace: 'slow',
      store: slowReads(store, 100),
      l1: false,
      storeTimeout: { read: '300ms' },
    })
    caches.push(writer, reader)
    const errors: CacheEvents['error'][] = []
    reader.on('error', (event) => errors.push(event))
    const keys = range(10_000)
    await writer.setMany(keys.map((key) => ({ key, value: key })))
    const values = await reader.getMany(keys)
    expect(values.filter((v) => v !== undefined)).toHaveLength(10_000)
    expect(errors).toEqual([])
  }, 30_000)
})

describe("a caller's own error", () => {
  it('is not a store failure: a RangeError building a call never opens the circuit', async () => {
    const store = faultyStore(memoryStore())
    const cache = createCache({ namespace: 'own', store })
    caches.push(cache)
    const circuit: string[] = []
    cache.on('store:circuit', ({ state }) => circuit.push(state))
    cache.on('error', () => {})
    store.faults.set({
      operations: ['write'],
      error: new RangeError('Maximum call stack size exceeded'),
      times: 6,
    })
    for (let i = 0; i < 6; i++) expect(await cache.set(`k${i}`, i)).toBe(false)
    expect(circuit).toEqual([])
    expect(await cache.set('after', 1)).toBe(true)
    await cache.invalidate('t')
  })
})
