import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import type { Cache } from '../../src/cache/cache.js'
import type { CacheEvents } from '../../src/cache/events.js'
import { createCache, type Store } from '../../src/index.js'
import { redisStore } from '../../src/redis/store.js'
import { clusterForTests } from '../helpers/redis-cluster.js'
import { type OwnRedis, startRedis } from '../helpers/redis-server.js'
import { uniquePrefix } from '../helpers/tiers.js'

/**
 * SPEC §5b: batches of a million items complete on Redis and on Redis Cluster (split into parts
 * within Redis's limits). The time each took is printed: docs/redis.md quotes them.
 */
const N = 1_000_000
const keys = Array.from({ length: N }, (_, i) => `k${i}`)
const caches: Cache[] = []
afterAll(() => Promise.allSettled(caches.map((cache) => cache.close())))

async function timed<T>(label: string, run: () => Promise<T>): Promise<T> {
  const t0 = performance.now()
  const result = await run()
  console.log(`${label}: ${Math.round(performance.now() - t0)} ms`)
  return result
}

function caches2(store: () => Store) {
  const errors: CacheEvents['error'][] = []
  const make = (options: Parameters<typeof createCache>[0] = {}) => {
    // The default `maxTags` (100,000): each part of a big read is judged as it arrives, so a
    // batch whose entries carry more tags than that still comes back whole.
    const cache = createCache({ namespace: 'm', store: store(), ...options })
    cache.on('error', (event) => errors.push(event))
    caches.push(cache)
    return cache
  }
  return { writer: make(), reader: make({ l1: false }), errors }
}

async function million(name: string, store: () => Store): Promise<void> {
  const { writer, reader, errors } = caches2(store)
  const stored = await timed(`${name} setMany 1M`, () =>
    writer.setMany(keys.map((key, i) => ({ key, value: i, tags: [`t${i}`], ttl: '1h' }))),
  )
  expect(errors.map((event) => String(event.error))).toEqual([])
  expect(stored.filter(Boolean)).toHaveLength(N)
  const values = await timed(`${name} getMany 1M (l1: false)`, () => reader.getMany<number>(keys))
  expect(errors.map((event) => String(event.error))).toEqual([])
  expect(values.filter((v) => v !== undefined)).toHaveLength(N)
  expect(values[N - 1]).toBe(N - 1)
  await timed(`${name} invalidate 500k tags`, () =>
    writer.invalidate(keys.map((_, i) => `t${i}`).filter((_, i) => i % 2 === 0)),
  )
  await timed(`${name} deleteMany 1M`, () => writer.deleteMany(keys))
  const after = await reader.getMany(['k0', 'k1', `k${N - 1}`])
  expect(after).toEqual([undefined, undefined, undefined])
  expect(errors).toEqual([])
}

// A server of its own: a million keys in the shared one would slow every SCAN of other tests.
describe('a million items on Redis', () => {
  let server: OwnRedis
  let client: Redis
  beforeAll(async () => {
    server = await startRedis()
    client = new Redis(server.url, { maxRetriesPerRequest: 1 })
  }, 60_000)
  afterAll(async () => {
    client?.disconnect()
    await server?.kill()
  })
  it('setMany, getMany, invalidate and deleteMany complete', async () => {
    const prefix = uniquePrefix()
    await million('redis', () => redisStore({ client, prefix }))
  }, 600_000)
})

describe('a million items on Redis Cluster', () => {
  const cluster = clusterForTests()
  it('setMany, getMany, invalidate and deleteMany complete', async () => {
    const prefix = uniquePrefix()
    await million('cluster', () => redisStore({ client: cluster.client, prefix }))
  }, 600_000)
})
