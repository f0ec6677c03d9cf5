import { afterEach, describe, expect, it } from 'vitest'

import { type Cache, createCache } from '../../src/index.js'
import { ALL_TIERS, trusted } from '../helpers/tiers.js'

class NotFound extends Error {}
const cacheErrors = { when: (e: unknown) => e instanceof NotFound, ttl: '1m' as const }

const caches: Cache[] = []
afterEach(async () => {
  await Promise.all(caches.splice(0).map((cache) => cache.close()))
})

describe.each(ALL_TIERS)('a cached failure, %s', (_, tiers) => {
  const open = async (options: { l1?: false } = {}) => {
    const shared = tiers()
    const cache = await trusted(createCache({ ...shared, ...options }))
    caches.push(cache)
    return cache
  }

  it('is rethrown by getOrSet, and absent for get, getMany and has', async () => {
    const cache = await open()
    const fail = () => Promise.reject(new NotFound('no such row'))
    await expect(cache.getOrSet('k', fail, { cacheErrors })).rejects.toThrow('no such row')
    // The second call is served from the cache: the loader is not asked again.
    await expect(
      cache.getOrSet('k', () => Promise.resolve('loaded'), { cacheErrors }),
    ).rejects.toThrow('no such row')
    expect(await cache.get('k')).toBeUndefined()
    expect(await cache.getMany(['k', 'k'])).toEqual([undefined, undefined])
    expect(await cache.has('k')).toBe(false)
    // And still the cached failure for getOrSet afterwards (get did not replace or hide it).
    await expect(cache.getOrSet('k', () => Promise.resolve('loaded'))).rejects.toThrow(
      'no such row',
    )
  })

  it('is no value for getOrSetMany: its key is loaded like a missing one', async () => {
    const cache = await open()
    const fail = () => Promise.reject(new NotFound('no such row'))
    await expect(cache.getOrSet('k', fail, { cacheErrors })).rejects.toThrow('no such row')
    const asked: string[][] = []
    const values = await cache.getOrSetMany(['k'], (keys) => {
      asked.push(keys)
      return keys.map(() => 'loaded')
    })
    expect(asked).toEqual([['k']])
    expect(values).toEqual(['loaded'])
  })
})
