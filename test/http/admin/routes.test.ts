import { describe, expect, it } from 'vitest'

import { createAdminHandler } from '../../../src/http/admin/index.js'
import type { Cache } from '../../../src/index.js'
import { ADMIN_TIERS, jsonOf, makeCache, parseMetrics, request } from './admin-fixtures.js'

interface KeysPage {
  keys: {
    key: string
    ttl: number
    namespace: string
    tags: string[]
    size: number | null
    created_at: string | null
  }[]
  cursor: number | string
}

const admin = (cache: Cache) => createAdminHandler({ cache, insecure: true })

/** Every listed key of `GET /keys`, all pages (the test Redis holds other files' keys too). */
async function listAll(cache: Cache, query = ''): Promise<KeysPage['keys']> {
  const handler = admin(cache)
  const found: KeysPage['keys'] = []
  let cursor: number | string = 0
  do {
    const page: KeysPage = await jsonOf<KeysPage>(
      await handler(request('GET', `/api/cache/keys?cursor=${cursor}&count=1000${query}`)),
    )
    found.push(...page.keys)
    cursor = page.cursor
  } while (cursor !== 0)
  return found
}

/** {@link listAll} as sorted `namespace::key`. */
const allKeys = async (cache: Cache, query = ''): Promise<string[]> =>
  [
    ...new Set((await listAll(cache, query)).map(({ key, namespace }) => `${namespace}::${key}`)),
  ].sort()

describe.each(ADMIN_TIERS)('admin routes (%s)', (_name, tiers) => {
  it('GET /keys lists the keys of the cache and its children, with ttl in seconds', async () => {
    const cache = makeCache(tiers())
    await cache.set('user:1', { id: 1 }, { ttl: '42s' })
    await cache.set('post:1', 'p')
    await cache.namespace('users').set('42', 'u')

    expect(await listAll(cache)).toContainEqual(
      expect.objectContaining({ key: 'user:1', ttl: 42, namespace: 'app' }),
    )
    expect(await allKeys(cache)).toEqual(['app::post:1', 'app::user:1', 'app:users::42'])
    expect(await allKeys(cache, '&pattern=user:*')).toEqual(['app::user:1'])
    // A child's admin API lists only the child.
    expect(await allKeys(cache.namespace('users'))).toEqual(['app:users::42'])
  })

  it('GET /keys gives each key the tags, size and created_at that GET /keys/:key gives', async () => {
    const cache = makeCache(tiers())
    await cache.set('user:1', { id: 1, name: 'x'.repeat(200) }, { tags: ['user:1', 'users'] })
    await cache.namespace('users').set('42', 'u')
    const handler = admin(cache)

    const listed = await listAll(cache)
    const user = listed.find(({ key }) => key === 'user:1')
    const info = await jsonOf(await handler(request('GET', '/api/cache/keys/user%3A1')))
    // Implicit tags (`@key:`, `@ns:`) are not listed, as GET /keys/:key leaves them out.
    expect(user?.tags.sort()).toEqual(['user:1', 'users'])
    expect(user?.size).toBeGreaterThan(200)
    expect(user?.size).toBe(info.size)
    expect(user?.created_at).toBe(info.created_at)
    expect(Date.parse(user?.created_at ?? '')).toBe((await cache.inspect('user:1'))?.createdAt)
    expect(listed.find(({ key }) => key === '42')).toMatchObject({
      namespace: 'app:users',
      tags: [],
    })
  })

  it('GET /keys/:key inspects an entry, percent-decoding the key once', async () => {
    const cache = makeCache(tiers())
    await cache.set('user:42', { id: 42 }, { ttl: '1m', tags: ['user:42', 'team:7'] })
    await cache.set('GET:/items?page=1', [1])
    await cache.set('100%', 'literal')
    const handler = admin(cache)

    const info = await jsonOf(await handler(request('GET', '/api/cache/keys/user%3A42')))
    expect(info).toMatchObject({
      key: 'user:42',
      namespace: 'app',
      status: 'valid',
      tags: ['user:42', 'team:7'],
      ttl: 60,
    })
    expect(['l1', 'l2']).toContain(info.tier)
    expect(typeof info.created_at).toBe('string')

    const encoded = encodeURIComponent('GET:/items?page=1')
    expect(await jsonOf(await handler(request('GET', `/api/cache/keys/${encoded}`)))).toMatchObject(
      { key: 'GET:/items?page=1' },
    )
    // Decoded once: `%2525` is the key `%25`, not `%`.
    expect((await handler(request('GET', '/api/cache/keys/100%25')))?.status).toBe(200)
    expect((await handler(request('GET', '/api/cache/keys/100%2525')))?.status).toBe(404)

    const missing = await handler(request('GET', '/api/cache/keys/nope'))
    expect(missing?.status).toBe(404)
    expect((await jsonOf(missing)).error).toMatch(/nope/)
  })

  it("GET and DELETE /keys/:key reach a child's key with ?namespace=", async () => {
    const cache = makeCache(tiers())
    const users = cache.namespace('users')
    await users.set('42', 'u')
    await cache.set('42', 'root')
    const handler = admin(cache)

    const info = await jsonOf(
      await handler(request('GET', '/api/cache/keys/42?namespace=app:users')),
    )
    expect(info).toMatchObject({ key: '42', namespace: 'app:users' })

    const deleted = await handler(request('DELETE', '/api/cache/keys/42?namespace=app:users'))
    expect(await jsonOf(deleted)).toEqual({ status: 'deleted', key: '42', namespace: 'app:users' })
    expect(await users.get('42')).toBeUndefined()
    expect(await cache.get('42')).toBe('root')
  })

  it('DELETE /keys/:key removes the key; inspecting it then answers 404', async () => {
    const cache = makeCache(tiers())
    await cache.set('a/b', 1)
    await cache.set('keep', 2)
    const handler = admin(cache)

    const response = await handler(request('DELETE', '/api/cache/keys/a%2Fb'))
    expect(await jsonOf(response)).toEqual({ status: 'deleted', key: 'a/b', namespace: 'app' })
    expect(await cache.get('a/b')).toBeUndefined()
    expect(await cache.get('keep')).toBe(2)
    expect((await handler(request('GET', '/api/cache/keys/a%2Fb')))?.status).toBe(404)
    // An unencoded '/' reaches the same key: the key is the whole rest of the path.
    await cache.set('a/b', 3)
    expect((await handler(request('DELETE', '/api/cache/keys/a/b')))?.status).toBe(200)
    expect(await cache.get('a/b')).toBeUndefined()
  })

  it('POST /clear clears this namespace only (its children included, its parent not)', async () => {
    const root = makeCache(tiers())
    const users = root.namespace('users')
    const admins = users.namespace('admins')
    await root.set('r', 1)
    await users.set('u', 2)
    await admins.set('a', 3)

    const response = await admin(users)(request('POST', '/api/cache/clear'))
    expect(await jsonOf(response)).toEqual({ status: 'cleared', namespace: 'app:users' })
    expect(await users.get('u')).toBeUndefined()
    expect(await admins.get('a')).toBeUndefined()
    expect(await root.get('r')).toBe(1)
  })

  it('POST /clear?pattern= clears the matching keys and says how many', async () => {
    const cache = makeCache(tiers())
    await cache.setMany([
      { key: 'GET:spaces:1', value: 1 },
      { key: 'GET:spaces:2', value: 2 },
      { key: 'GET:items:1', value: 3 },
    ])
    const response = await admin(cache)(request('POST', '/api/cache/clear?pattern=GET:spaces:*'))
    expect(await jsonOf(response)).toEqual({
      status: 'cleared',
      namespace: 'app',
      pattern: 'GET:spaces:*',
      cleared: 2,
    })
    expect(await cache.getMany(['GET:spaces:1', 'GET:spaces:2', 'GET:items:1'])).toEqual([
      undefined,
      undefined,
      3,
    ])
  })

  it('POST /invalidate takes { tags } and answers the sequence', async () => {
    const cache = makeCache(tiers())
    await cache.set('a', 1, { tags: ['user:1'] })
    await cache.set('b', 2, { tags: ['user:2'] })
    await cache.set('c', 3, { tags: ['team:1'] })

    const response = await admin(cache)(
      request('POST', '/api/cache/invalidate', { json: { tags: ['user:1', 'team:1'] } }),
    )
    expect(response?.status).toBe(200)
    const body = await jsonOf(response)
    expect(body).toMatchObject({ status: 'invalidated', tags: ['user:1', 'team:1'] })
    expect(Number.isInteger(body.seq)).toBe(true)
    expect(await cache.getMany(['a', 'b', 'c'])).toEqual([undefined, 2, undefined])
  })

  it("POST /invalidate reads the service's body too: keys, and a list of items", async () => {
    const cache = makeCache(tiers())
    await cache.set('a', 1, { tags: ['user:1'] })
    await cache.set('b', 2, { tags: ['user:2'] })
    await cache.set('c', 3)
    const response = await admin(cache)(
      request('POST', '/api/cache/invalidate', {
        json: [{ entity_type: 'user', entity_id: 1 }, { keys: ['c'] }],
      }),
    )
    expect(response?.status).toBe(200)
    expect(await jsonOf(response)).toMatchObject({ tags: ['user:1'], keys: ['c'] })
    expect(await cache.getMany(['a', 'b', 'c'])).toEqual([undefined, 2, undefined])
  })

  it("POST /invalidate takes the seed's { entity_type, entity_id }", async () => {
    const cache = makeCache(tiers())
    const getProduct = cache.wrap(async (id: number) => ({ id, name: 'p' }), {
      name: 'getProduct',
      entity: 'product',
    })
    await getProduct(123)
    let loads = 0
    cache.on('miss', () => loads++)

    const response = await admin(cache)(
      request('POST', '/api/cache/invalidate', {
        json: { entity_type: 'product', entity_id: 123 },
        headers: { 'content-type': 'application/json; charset=utf-8' },
      }),
    )
    expect(await jsonOf(response)).toMatchObject({ status: 'invalidated', tags: ['product:123'] })
    await getProduct(123)
    expect(loads).toBe(1)
  })

  it('GET /tags/:tag lists the keys known to depend on a tag', async () => {
    const cache = makeCache(tiers())
    await cache.set('a', 1, { tags: ['user:7'] })
    await cache.set('b', 2, { tags: ['user:7', 'x'] })
    await cache.set('c', 3, { tags: ['x'] })
    const handler = admin(cache)

    const body = await jsonOf<{ keys: string[] }>(
      await handler(request('GET', '/api/cache/tags/user%3A7')),
    )
    expect(body).toMatchObject({ tag: 'user:7', namespace: 'app', limit: 100 })
    expect(body.keys.sort()).toEqual(['a', 'b'])
    const limited = await jsonOf<{ keys: string[] }>(
      await handler(request('GET', '/api/cache/tags/x?limit=1')),
    )
    expect(limited.keys).toHaveLength(1)
  })

  it('GET /stats answers the counters in snake_case', async () => {
    const cache = makeCache(tiers())
    await cache.set('a', 1)
    await cache.get('a')
    await cache.get('a')
    await cache.get('missing')

    const stats = await jsonOf(await admin(cache)(request('GET', '/api/cache/stats')))
    expect(stats).toMatchObject({ hits: 2, misses: 1, hit_rate: 2 / 3, sets: 1 })
    expect(stats.l1).toMatchObject({ known_tags: expect.any(Number) as number })
    expect(stats.l2).toMatchObject({ replay_queue: 0, circuit: 'closed' })
  })

  it('GET /health answers ok with the namespace', async () => {
    const cache = makeCache(tiers())
    const health = await jsonOf(
      await admin(cache.namespace('users'))(request('GET', '/api/cache/health')),
    )
    expect(health).toMatchObject({ status: 'ok', namespace: 'app:users', circuit: 'closed' })
  })

  it('GET /metrics answers the Prometheus text format', async () => {
    const cache = makeCache(tiers())
    await cache.set('a', 1)
    await cache.get('a')
    const response = await admin(cache)(request('GET', '/api/cache/metrics'))
    expect(response?.status).toBe(200)
    expect(response?.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
    expect(response?.headers.get('cache-control')).toBe('no-store')
    const samples = parseMetrics((await response?.text()) ?? '')
    expect(samples.get('cachegraph_sets_total')).toBe(1)
    expect(samples.get('cachegraph_hits_total{tier="l1"}')).toBe(1)
  })

  it('HEAD answers like GET, without a body', async () => {
    const cache = makeCache(tiers())
    const response = await admin(cache)(request('HEAD', '/api/cache/stats'))
    expect(response?.status).toBe(200)
    expect(response?.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(await response?.text()).toBe('')
    const refused = await admin(cache)(request('HEAD', '/api/cache/clear'))
    expect(refused?.status).toBe(405)
    expect(refused?.headers.get('allow')).toBe('POST')
    expect(await refused?.text()).toBe('')
  })
})

describe('admin routing', () => {
  it('answers undefined outside its prefix, so the host can fall through', async () => {
    const cache = makeCache()
    const handler = admin(cache)
    expect(await handler(request('GET', '/'))).toBeUndefined()
    expect(await handler(request('GET', '/api/cachestats'))).toBeUndefined()
    expect(await handler(request('GET', '/api/stats'))).toBeUndefined()
    expect(await handler(request('GET', '/api/cache/stats'))).toBeInstanceOf(Response)
  })

  it('mounts under a custom prefix (a trailing slash is ignored)', async () => {
    const cache = makeCache()
    const handler = createAdminHandler({ cache, insecure: true, prefix: '/_admin/cache/' })
    expect(await handler(request('GET', '/api/cache/stats'))).toBeUndefined()
    expect((await handler(request('GET', '/_admin/cache/stats')))?.status).toBe(200)
  })

  it('refuses a prefix that is not a path', () => {
    const cache = makeCache()
    for (const prefix of ['api', '/api?x', '/a b', '/a%2F']) {
      expect(() => createAdminHandler({ cache, insecure: true, prefix })).toThrow(
        expect.objectContaining({
          code: 'E_INVALID_OPTION',
          message: expect.stringContaining('admin.prefix') as string,
        }),
      )
    }
  })
})
