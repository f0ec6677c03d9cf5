import { afterAll, describe, expect, it } from 'vitest'

import type { Cache } from '../../src/cache/cache.js'
import { createCache, isCacheError } from '../../src/index.js'
import { redisStore } from '../../src/redis/store.js'
import { faultyStore } from '../../src/testing/index.js'
import { until } from '../helpers/deferred.js'
import { redisClient, uniquePrefix } from '../helpers/tiers.js'

/**
 * SPEC §5b: a read never waits longer than its read timeout for anything, the replay of queued
 * invalidations included, and never reads from a store that has not heard them yet.
 */
const caches: Cache[] = []
afterAll(() => Promise.allSettled(caches.map((cache) => cache.close())))

describe('reads while queued invalidations are being replayed', () => {
  it('do not wait for the replay: the loader answers, and the store is not read before it heard them', async () => {
    const store = faultyStore(redisStore({ client: redisClient(), prefix: uniquePrefix() }))
    // The replay never finishes on its own: only a read that does not wait for it can answer.
    const cache = createCache({
      namespace: 'r',
      store,
      l1: false,
      breaker: false,
      storeTimeout: { read: '50ms', invalidate: Infinity },
    })
    caches.push(cache)
    cache.on('error', () => {})
    await cache.set('k', 'old', { tags: ['t'] })
    store.faults.set({ operations: ['invalidate'], error: true, times: 1 })
    const error = await cache.invalidate('t').catch((e: unknown) => e)
    expect(isCacheError(error, 'E_INVALIDATION_NOT_RECORDED')).toBe(true)
    expect(cache.stats().l2.replayQueue).toBe(1)

    store.faults.set({ operations: ['invalidate'], hang: true })
    const readsBefore = store.faults.counts().read.calls
    const values = await Promise.all(
      Array.from({ length: 10 }, (_, i) => cache.getOrSet('k', () => `loaded ${i}`)),
    )
    // The store still holds 'old' (it never heard of the invalidation): it was not read.
    expect(values.every((v) => v.startsWith('loaded'))).toBe(true)
    expect(store.faults.counts().read.calls).toBe(readsBefore)
    expect(store.faults.hanging).toBe(1)
    expect(cache.stats().l2.replayQueue).toBe(1)

    // The store is back: the next read replays the queue first, then reads.
    store.faults.heal()
    await until(async () => (await cache.get('probe'), cache.stats().l2.replayQueue === 0), 5_000)
    expect(await cache.get('k')).toBeUndefined()
    expect(cache.stats().l2.circuit).toBe('closed')
  })
})
