import { describe, expect, it } from 'vitest'

import { createAdminHandler } from '../../../src/http/admin/index.js'
import type { Cache, CacheOptions } from '../../../src/index.js'
import { redisStore } from '../../../src/redis/store.js'
import { clusterForTests } from '../../helpers/redis-cluster.js'
import { redisClient, uniquePrefix } from '../../helpers/tiers.js'
import { jsonOf, makeCache, request } from './admin-fixtures.js'

/**
 * `GET /keys/:key` answers an entry's size, which the dashboard shows beside its age: for an
 * entry in Redis the size of what Redis stores, also when this process holds it in L1 (kept
 * without a size unless `l1.maxBytes` asks for one), and the L1 estimate without a store.
 */
const cluster = clusterForTests()
const VALUE = { id: 42, name: 'Lamp', notes: 'x'.repeat(500) }

async function sizeOf(cache: Cache, key: string): Promise<unknown> {
  const admin = createAdminHandler({ cache, insecure: true })
  const info = await jsonOf(await admin(request('GET', `/api/cache/keys/${key}`)))
  return info.size
}

describe.each([
  ['Redis', () => redisStore({ client: redisClient(), prefix: uniquePrefix() })],
  ['Redis Cluster', () => redisStore({ client: cluster.client, prefix: uniquePrefix() })],
] as const)('entry sizes (%s)', (_name, store) => {
  it('answers the stored size of an entry, from L1 or from the store alike', async () => {
    const shared: CacheOptions['store'] = store()
    const writer = makeCache({ store: shared })
    const reader = makeCache({ store: shared, l1: false })
    await writer.set('product:42', VALUE, { tags: ['product:42'] })

    const fromStore = await sizeOf(reader, 'product%3A42')
    expect(fromStore).toBeTypeOf('number')
    // The payload: the serialized value and a header of times and version.
    expect(fromStore).toBeGreaterThan(JSON.stringify(VALUE).length)
    expect(fromStore).toBeLessThan(JSON.stringify(VALUE).length + 100)
    expect((await writer.inspect('product:42'))?.tier).toBe('l1')
    expect(await sizeOf(writer, 'product%3A42')).toBe(fromStore)
  })
})

describe('entry sizes (L1 only)', () => {
  it('answers the L1 estimate', async () => {
    const cache = makeCache()
    await cache.set('product:42', VALUE)
    expect(await sizeOf(cache, 'product%3A42')).toBeGreaterThan(500)
  })
})
