import { describe, expect, it } from 'vitest'

import { createCache, type Store, type StoreReadResult } from '../../src/index.js'
import { redisStore } from '../../src/redis/store.js'
import { deferred } from '../helpers/deferred.js'
import { redisClient, rewindState, uniquePrefix } from '../helpers/tiers.js'

/** A Redis store whose read answers can be held back after Redis answered them. */
function lateReplies(inner: Store) {
  let hold: Promise<void> | undefined
  const store: Store = {
    name: 'late',
    read: async (keys) => {
      const result: StoreReadResult = await inner.read(keys)
      if (hold !== undefined) await hold
      return result
    },
    write: (entries, options) => inner.write(entries, options),
    invalidate: (tags, options) => inner.invalidate(tags, options),
    close: () => inner.close(),
  }
  return {
    store,
    holdReads() {
      const gate = deferred<void>()
      hold = gate.promise
      return () => {
        hold = undefined
        gate.resolve()
      }
    },
  }
}

describe('a sequence lower than one seen before', () => {
  it('from a reply handled late is not mistaken for a store that lost its state', async () => {
    const prefix = uniquePrefix()
    const { store, holdReads } = lateReplies(redisStore({ client: redisClient(), prefix }))
    const cache = createCache({ store })
    const resets: unknown[] = []
    cache.on('store:reset', (event) => resets.push(event))
    await cache.set('k', 'v', { tags: ['t'] })
    const release = holdReads()
    const read = cache.get('other') // Redis answers at once; the answer waits here
    await new Promise((resolve) => setTimeout(resolve, 20))
    await cache.invalidate('x') // a higher sequence, seen first
    release()
    await read
    await new Promise((resolve) => setTimeout(resolve, 50)) // the check goes to Redis
    expect(resets).toEqual([])
    expect(await cache.get('k')).toBe('v') // the L1 was kept
    expect(cache.stats().l1.hits).toBe(1)
  })

  it('from a store whose current sequence is lower (a restored snapshot) drops the L1', async () => {
    const prefix = uniquePrefix()
    const cache = createCache({ store: redisStore({ client: redisClient(), prefix }) })
    const resets: { seq: number }[] = []
    cache.on('store:reset', (event) => resets.push(event))
    await cache.set('k', 'v', { tags: ['t'] })
    const { seq } = await cache.invalidate('x')
    await rewindState(prefix, seq - 100)
    await cache.get('other')
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(resets.map((r) => r.seq)).toEqual([seq - 100])
    expect(cache.stats().l1.entries).toBe(0)
  })
})
