import { afterEach, describe, expect, it } from 'vitest'

import {
  type Cache,
  createCache,
  currentDependencies,
  dependsOn,
  memoryStore,
} from '../../src/index.js'
import { FakeClock } from '../../src/testing/index.js'

const caches: Cache[] = []
afterEach(async () => {
  await Promise.all(caches.splice(0).map((cache) => cache.close()))
})

/** The public pieces the layers built on a cache (HTTP, adapters) read instead of internals. */
describe('cache.settings and currentDependencies()', () => {
  it('settings: the defaults, store and clock, read-only', () => {
    const clock = new FakeClock()
    const cache = createCache({ ttl: '2m', grace: '10s', store: memoryStore(), clock })
    caches.push(cache)
    const settings = cache.settings
    expect(settings).toMatchObject({
      ttlMs: 120_000,
      graceMs: 10_000,
      maxSilenceMs: undefined,
      storeName: 'memory',
    })
    expect(settings.clock.now()).toBe(clock.now())
    expect(Object.isFrozen(settings)).toBe(true)
  })

  it('currentDependencies: undefined outside a loader; inside, the tags so far', async () => {
    const cache = createCache({ namespace: 'deps' })
    caches.push(cache)
    expect(currentDependencies()).toBeUndefined()
    await cache.getOrSet('inner', () => 1, { tags: ['user:1'], ttl: '1m' })
    let seen: ReturnType<typeof currentDependencies>
    await cache.getOrSet('outer', async () => {
      dependsOn('team:9')
      await cache.getOrSet('inner', () => 2)
      seen = currentDependencies()
      return 3
    })
    expect(seen?.tags).toEqual(expect.arrayContaining(['team:9', 'user:1', '@key:deps::outer']))
    expect(seen?.expiresAt).toBeLessThan(Infinity)
  })
})
