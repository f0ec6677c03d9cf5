import { afterEach, inject } from 'vitest'

import { redisBus } from '../../../src/redis/bus.js'
import { type Cache, createCache } from '../../../src/index.js'
import { redisStore } from '../../../src/redis/store.js'
import { trusted, uniquePrefix } from '../../helpers/tiers.js'

const open: Cache[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((cache) => cache.close()))
})

/**
 * The run's Redis, database 11: the page lists keys by scanning, and database 0 holds every
 * other test's keys (a full scan of it takes seconds on a busy machine).
 */
function dashboardRedis(): string {
  const url = new URL(inject('redisUrl'))
  url.pathname = '/11'
  return url.toString()
}

/** A cache with a Redis store and bus on `prefix`, once the bus trusts it (so it is a member). */
export async function fleetMember(prefix: string) {
  const store = redisStore({ url: dashboardRedis(), prefix })
  const cache = createCache({
    namespace: 'shop',
    ttl: '1h',
    store,
    bus: redisBus({ maxSilence: '1s' }),
  })
  open.push(cache)
  await trusted(cache)
  return { cache, store }
}

/** Two processes' worth of caches on one fresh prefix, with a few tagged entries. */
export async function smallFleet() {
  const prefix = uniquePrefix()
  const one = await fleetMember(prefix)
  const two = await fleetMember(prefix)
  await one.cache.set(
    'product:1',
    { id: 1, name: 'Lamp', price: 40 },
    { tags: ['product:1', 'catalog'] },
  )
  await one.cache.set(
    'product:2',
    { id: 2, name: 'Desk', price: 220 },
    { tags: ['product:2', 'catalog'] },
  )
  await one.cache.set(
    'user:7:cart',
    { items: [1, 2] },
    { tags: ['user:7', 'product:1', 'product:2'] },
  )
  await one.cache.namespace('pages').set('/products', '<html>…</html>', { tags: ['catalog'] })
  return { prefix, one, two }
}
