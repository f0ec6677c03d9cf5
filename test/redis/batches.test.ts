import { Redis } from 'ioredis'
import { afterAll, describe, expect, inject, it } from 'vitest'

import type { Cache } from '../../src/cache/cache.js'
import type { CacheEvents } from '../../src/cache/events.js'
import { createCache, isCacheError, type Store } from '../../src/index.js'
import { type RedisStore, redisStore } from '../../src/redis/store.js'
import { redisClient, uniquePrefix } from '../helpers/tiers.js'
import { unlinkPrefix } from '../helpers/unlink-prefix.js'

/**
 * Batches of any length on the Redis store (SPEC §5b): they are split so no single script
 * exceeds Redis's argument or Lua limits, or refused up front with `E_TOO_LARGE`.
 */
const caches: Cache[] = []
const stores: Store[] = []
afterAll(async () => {
  await Promise.allSettled(caches.map((cache) => cache.close()))
  for (const store of stores) await unlinkPrefix(redisClient(), (store as RedisStore).prefix)
}, 120_000)

function make(prefix: string, options: Parameters<typeof createCache>[0] = {}) {
  const store = redisStore({ client: redisClient(), prefix })
  stores.push(store)
  const cache = createCache({ namespace: 'b', store, ...options })
  caches.push(cache)
  const errors: CacheEvents['error'][] = []
  cache.on('error', (event) => errors.push(event))
  const circuit: string[] = []
  cache.on('store:circuit', ({ state }) => circuit.push(state))
  return { cache, store, errors, circuit }
}

const range = (n: number, name: (i: number) => string) =>
  Array.from({ length: n }, (_, i) => name(i))

describe('batches larger than one script', () => {
  it('setMany of 20,000 entries stores them all; an l1: false reader finds 10,000 with getMany', async () => {
    const prefix = uniquePrefix()
    const writer = make(prefix)
    const stored = await writer.cache.setMany(
      range(20_000, (i) => `k${i}`).map((key, i) => ({ key, value: i, ttl: '5m' })),
    )
    expect(stored.filter(Boolean)).toHaveLength(20_000)
    expect(writer.errors).toEqual([])

    const reader = make(prefix, { l1: false })
    const keys = range(10_000, (i) => `k${i * 2}`)
    const values = await reader.cache.getMany<number>(keys)
    expect(values.filter((v) => v !== undefined)).toHaveLength(10_000)
    expect(values[4_999]).toBe(9_998)
    expect(reader.errors).toEqual([])
  }, 60_000)

  it('invalidate of 150,000 tags records every one of them', async () => {
    const prefix = uniquePrefix()
    const { cache, errors } = make(prefix)
    await cache.set('first', 1, { tags: ['t0'] })
    await cache.set('last', 2, { tags: ['t149999'] })
    const tags = range(150_000, (i) => `t${i}`)
    await cache.invalidate(tags)
    expect(errors).toEqual([])
    const reader = make(prefix, { l1: false })
    expect(await reader.cache.getMany(['first', 'last'])).toEqual([undefined, undefined])
  }, 60_000)

  it('deleteMany of 130,000 keys deletes them everywhere', async () => {
    const prefix = uniquePrefix()
    const { cache, errors } = make(prefix)
    await cache.setMany([
      { key: 'k0', value: 0 },
      { key: 'k129999', value: 1 },
    ])
    await cache.deleteMany(range(130_000, (i) => `k${i}`))
    expect(errors).toEqual([])
    const reader = make(prefix, { l1: false })
    expect(await reader.cache.getMany(['k0', 'k129999'])).toEqual([undefined, undefined])
  }, 60_000)

  it('a big setMany as the first call of a new connection does not bring the process down', async () => {
    // The connection is not ready yet: the commands wait in the client's offline queue, and a
    // huge one used to throw there, outside any promise.
    const client = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 })
    try {
      const store = redisStore({ client, prefix: uniquePrefix() })
      stores.push(store)
      const cache = createCache({ namespace: 'b', store })
      caches.push(cache)
      const stored = await cache.setMany(
        range(20_000, (i) => `k${i}`).map((key) => ({ key, value: key, ttl: '5m' })),
      )
      expect(stored.filter(Boolean)).toHaveLength(20_000)
      await cache.invalidate(range(125_000, (i) => `t${i}`))
    } finally {
      client.disconnect()
    }
  }, 60_000)

  it('the store itself splits calls made directly, past what one script takes', async () => {
    const store = redisStore({ client: redisClient(), prefix: uniquePrefix() })
    stores.push(store)
    const entries = range(25_000, (i) => `k${i}`).map((key) => ({
      key,
      payload: 'v',
      tags: ['t'],
      ttlMs: 300_000,
    }))
    const written = await store.write(entries, { asOf: (await store.read([])).seq })
    expect(written.written.filter(Boolean)).toHaveLength(25_000)
    const read = await store.read(entries.map((e) => e.key))
    expect(read.entries.filter((e) => e?.payload === 'v')).toHaveLength(25_000)
    const before = read.seq
    const result = await store.invalidate(range(130_000, (i) => `x${i}`))
    expect(result.seq).toBeGreaterThan(before)
  }, 60_000)
})

describe('input too large to split', () => {
  it('a tag over the limit is refused up front: nothing recorded, the circuit stays closed', async () => {
    const { cache, store, circuit } = make(uniquePrefix())
    const before = (await store.read([])).seq
    const huge = 'x'.repeat(64 * 1024 + 1)
    for (let i = 0; i < 6; i++) {
      const error = await cache.invalidate(['ok', huge]).catch((e: unknown) => e)
      expect(isCacheError(error, 'E_TOO_LARGE')).toBe(true)
    }
    expect((await store.read([])).seq).toBe(before)
    expect(circuit).toEqual([])
    expect(cache.stats().l2.replayQueue).toBe(0)
  })

  it('a key over the limit refuses the whole setMany: nothing is stored', async () => {
    const { cache, circuit } = make(uniquePrefix())
    const error = await cache
      .setMany([
        { key: 'small', value: 1 },
        { key: 'k'.repeat(64 * 1024), value: 2 },
      ])
      .catch((e: unknown) => e)
    expect(isCacheError(error, 'E_TOO_LARGE')).toBe(true)
    expect(await cache.get('small')).toBeUndefined()
    expect(circuit).toEqual([])
  })
})

describe("one caller's big batch and the others", () => {
  it('never opens the circuit breaker; other callers keep reading, writing and invalidating', async () => {
    const prefix = uniquePrefix()
    const big = make(prefix)
    const other = make(prefix, { l1: false })
    await other.cache.set('mine', 1)
    const batches = Array.from({ length: 5 }, (_, b) =>
      big.cache.invalidate(range(130_000, (i) => `b${b}:${i}`)),
    )
    // Reads of another caller go out between the chunks of the big batch, within their 50 ms.
    const reads: Promise<unknown>[] = []
    for (let i = 0; i < 20; i++) reads.push(other.cache.get('mine'))
    expect(await Promise.all(reads)).toEqual(Array.from({ length: 20 }, () => 1))
    await Promise.all(batches)
    expect(await other.cache.set('mine', 2)).toBe(true)
    await other.cache.invalidate('x')
    expect([...big.circuit, ...other.circuit]).toEqual([])
    expect([...big.errors, ...other.errors]).toEqual([])
  }, 120_000)
})
