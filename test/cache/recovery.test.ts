import { describe, expect, it } from 'vitest'

import { createCache, MemoryStore } from '../../src/index.js'
import { deferred, settle } from '../helpers/deferred.js'

describe('a store that loses its state', () => {
  it('the next read sees the new epoch and drops L1 (nothing it cannot validate is served)', async () => {
    const store = new MemoryStore()
    const cache = createCache({ store })
    const resets: unknown[] = []
    cache.on('store:reset', (e) => resets.push(e))
    await cache.set('a', 1, { tags: ['t'] })
    expect(await cache.get('a')).toBe(1)
    store.reset()
    await cache.get('unrelated') // any round trip reveals the new epoch
    expect(resets).toHaveLength(1)
    expect(await cache.get('a')).toBeUndefined()
  })

  it('a load that started before the loss is not stored after it (the lost record cannot be checked)', async () => {
    const store = new MemoryStore()
    const cache = createCache({ store })
    const gate = deferred<string>()
    const load = cache.getOrSet('k', () => gate.promise, { tags: ['t'] })
    await settle()
    await cache.invalidate('t') // recorded, then lost
    store.reset()
    gate.resolve('old')
    expect(await load).toBe('old')
    const other = createCache({ store })
    expect(await other.get('k')).toBeUndefined()
    expect(await cache.get('k')).toBeUndefined()
  })
})

describe('bounded tag registry', () => {
  it('forgetting tag records never revives an invalidated entry', async () => {
    const cache = createCache({ maxTags: 3 })
    await cache.set('k', 'v', { tags: ['t'] })
    await cache.invalidate('t')
    // Push 't' (and the key tags) out of the registry.
    for (let i = 0; i < 10; i++) await cache.invalidate(`other:${i}`)
    expect(cache.stats().l1.knownTags).toBeLessThanOrEqual(3)
    expect(await cache.get('k')).toBeUndefined()
  })

  it('entries newer than every forgotten record stay valid', async () => {
    const cache = createCache({ maxTags: 3 })
    for (let i = 0; i < 10; i++) await cache.invalidate(`old:${i}`)
    await cache.set('k', 'v', { tags: ['fresh'] })
    expect(await cache.get('k')).toBe('v')
  })
})
