import { afterEach, describe, expect, it } from 'vitest'

import { type Cache, createCache, memoryStore } from '../../src/index.js'
import { createAdminHandler } from '../../src/http/admin/index.js'
import { createInvalidationService } from '../../src/service/service.js'

const open: Cache[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((cache) => cache.close()))
})

function cacheWith(ids: readonly string[]): Promise<Cache> {
  const cache = createCache({ store: memoryStore() })
  open.push(cache)
  return Promise.all(ids.map((id) => cache.set(id, id, { tags: [`product:${id}`] }))).then(
    () => cache,
  )
}

const jsonPost = (url: string, body: string, headers: Record<string, string> = {}) =>
  new Request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  })

// 2^64 - 1 and a Snowflake id: above 2^53, so a float would round them.
const BIG = '12345678901234567890'
const ROUNDED = '12345678901234567000'
const SNOWFLAKE = '1541815603606036480'

describe('ids in JSON bodies are kept exactly', () => {
  it('service: POST /cache/invalidate takes an id above 2^53 as its digits', async () => {
    const cache = await cacheWith([BIG, ROUNDED, SNOWFLAKE])
    const service = createInvalidationService({ cache, apiKeys: [], insecure: true })
    const response = await service(
      jsonPost(
        'http://svc/cache/invalidate',
        `[{"entity_type":"product","entity_id":${BIG}},{"entity_type":"product","entity_id":${SNOWFLAKE}}]`,
      ),
    )
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({
      tags: [`product:${BIG}`, `product:${SNOWFLAKE}`],
    })
    expect(await cache.get(BIG)).toBeUndefined()
    expect(await cache.get(SNOWFLAKE)).toBeUndefined()
    // The id a float would have rounded to is someone else's: untouched.
    expect(await cache.get(ROUNDED)).toBe(ROUNDED)
  })

  it('admin: POST /invalidate takes an id above 2^53 as its digits', async () => {
    const cache = await cacheWith([BIG, ROUNDED])
    const admin = createAdminHandler({ cache, insecure: true })
    const response = await admin(
      jsonPost(
        'http://admin/api/cache/invalidate',
        `{"entity_type":"product","entity_id":-${BIG}}`,
      ),
    )
    expect(response?.status).toBe(200)
    expect(await response?.json()).toMatchObject({ tags: [`product:-${BIG}`] })
    const plain = await admin(
      jsonPost('http://admin/api/cache/invalidate', `{"entity_type":"product","entity_id":${BIG}}`),
    )
    expect(await plain?.json()).toMatchObject({ tags: [`product:${BIG}`] })
    expect(await cache.get(BIG)).toBeUndefined()
    expect(await cache.get(ROUNDED)).toBe(ROUNDED)
  })

  it('refuses (400) a number that would be rounded, and invalidates nothing', async () => {
    const cache = await cacheWith([ROUNDED, '0.1'])
    const service = createInvalidationService({ cache, apiKeys: [], insecure: true })
    for (const id of ['1.2345678901234567890e19', '0.10000000000000000001', '1e999']) {
      const response = await service(
        jsonPost('http://svc/cache/invalidate', `{"entity_type":"product","entity_id":${id}}`),
      )
      expect(response.status, id).toBe(400)
      expect(((await response.json()) as { error: string }).error).toContain('exactly')
    }
    expect(await cache.get(ROUNDED)).toBe(ROUNDED)
    expect(await cache.get('0.1')).toBe('0.1')
  })

  it('keeps the ids a float holds exactly as JSON.parse read them', async () => {
    const cache = await cacheWith(['42', '0.5', '1000'])
    const service = createInvalidationService({ cache, apiKeys: [], insecure: true })
    const response = await service(
      jsonPost(
        'http://svc/cache/invalidate',
        '[{"entity_type":"product","entity_id":42},{"entity_type":"product","entity_id":0.50},{"entity_type":"product","entity_id":1e3}]',
      ),
    )
    expect(await response.json()).toMatchObject({
      tags: ['product:42', 'product:0.5', 'product:1000'],
    })
  })
})
