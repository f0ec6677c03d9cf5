import { afterEach, describe, expect, it } from 'vitest'

import { type Cache, createCache, isCacheError, memoryStore } from '../../src/index.js'
import { MAX_NAME_BYTES } from '../../src/stores/batch-limits.js'

/** `deleteMany` checks the whole call before it changes anything, in any tier. */
describe('deleteMany with a key over the limit', () => {
  const caches: Cache[] = []
  afterEach(async () => {
    await Promise.all(caches.splice(0).map((cache) => cache.close()))
  })

  it.each([
    ['L1 only', () => createCache({ namespace: 'dm' })],
    ['L1 + shared store', () => createCache({ namespace: 'dm', store: memoryStore() })],
  ])('%s: refuses with E_TOO_LARGE and leaves every other key in place', async (_name, make) => {
    const cache = make()
    caches.push(cache)
    await cache.setMany([
      { key: 'a', value: 1 },
      { key: 'b', value: 2 },
    ])
    const deletes = cache.stats().deletes
    const oversized = 'x'.repeat(MAX_NAME_BYTES + 1)
    const error: unknown = await cache.deleteMany(['a', oversized, 'b']).catch((e: unknown) => e)
    expect(isCacheError(error) && error.code).toBe('E_TOO_LARGE')
    expect(await cache.getMany(['a', 'b'])).toEqual([1, 2])
    expect(cache.stats().deletes).toBe(deletes)
  })
})
