import { Redis } from 'ioredis'
import { afterAll } from 'vitest'

import type { Cache } from '../../src/cache/cache.js'
import { createCache } from '../../src/index.js'
import { redisStore } from '../../src/redis/store.js'

/**
 * Caches on Redis connections made for outages (one try per command, a 2 s command limit, errors
 * not logged), each on a client of its own, as a process of its own would be. Everything made
 * here is closed after the test file.
 */
const clients: Redis[] = []
const caches: Cache[] = []
afterAll(async () => {
  await Promise.allSettled(caches.map((cache) => cache.close()))
  for (const client of clients) client.disconnect()
})

/** Closes `cache` after the test file. */
export function closing(cache: Cache): Cache {
  caches.push(cache)
  return cache
}

/** A client of `url` that expects outages. */
export function outageClient(url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: 2_000 })
  client.on('error', () => {}) // outages are the point here
  clients.push(client)
  return client
}

/** A cache on a Redis store at `url` (through a proxy, say) under `prefix`. */
export function outageCache(
  url: string,
  prefix: string,
  options: Parameters<typeof createCache>[0] = {},
): Cache {
  return closing(
    createCache({ store: redisStore({ client: outageClient(url), prefix }), ...options }),
  )
}
