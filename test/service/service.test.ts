import { afterEach, describe, expect, inject, it } from 'vitest'

import { redisBus } from '../../src/redis/bus.js'
import { type Cache, createCache, isCacheError, memoryStore } from '../../src/index.js'
import { createInvalidationService } from '../../src/service/service.js'
import { listen, type ListeningServer } from '../../src/service/server.js'
import { redisStore } from '../../src/redis/store.js'
import { faultyStore } from '../../src/testing/faulty-store.js'
import { uniquePrefix } from '../helpers/tiers.js'
import { postBytes } from './helpers.js'

const KEY = 'k-1'
const open: { close(): Promise<void> }[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((one) => one.close()))
})

async function serve(cache: Cache, options: { apiKeys?: string[]; maxBodyBytes?: number } = {}) {
  const handler = createInvalidationService({
    cache,
    apiKeys: options.apiKeys ?? [KEY, 'k-2'],
    ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }),
  })
  const server = await listen({ handler, port: 0, onClose: () => cache.close() })
  open.push(server)
  return server
}

const post = (
  server: ListeningServer,
  body: unknown,
  headers: Record<string, string> = {},
  query = '',
) =>
  fetch(`${server.url}/cache/invalidate${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': KEY, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })

describe('invalidation service (memory store)', () => {
  it('answers the seed client exact request and drops the entity', async () => {
    const cache = createCache({ store: memoryStore() })
    await cache.set('p', 'old', { tags: ['product:123'] })
    const server = await serve(cache)
    // What cache-central-flush sends: requests.post(url, json=..., headers={'x-api-key': ...}).
    const response = await fetch(`${server.url}/cache/invalidate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY },
      body: JSON.stringify({ entity_id: 123, entity_type: 'product' }),
    })
    expect(response.status).toBe(200)
    const body = (await response.json()) as { status: string; seq: number; tags: string[] }
    expect(body).toMatchObject({ status: 'invalidated', tags: ['product:123'] })
    expect(body.seq).toBeGreaterThan(0)
    expect(await cache.get('p')).toBeUndefined()
  })

  it('takes tags, keys and a list of bodies', async () => {
    const cache = createCache({ store: memoryStore() })
    await cache.set('a', 1, { tags: ['t1'] })
    await cache.set('b', 2, { tags: ['t2'] })
    await cache.set('c', 3)
    await cache.set('d', 4, { tags: ['user:7'] })
    await cache.set('e', 5)
    const server = await serve(cache)
    expect((await post(server, { tags: ['t1'] })).status).toBe(200)
    expect(await cache.get('a')).toBeUndefined()
    expect(await cache.get('b')).toBe(2)
    const keys = await post(server, { keys: ['c'] })
    expect(await keys.json()).toMatchObject({ status: 'invalidated', keys: ['c'], tags: [] })
    expect(await cache.get('c')).toBeUndefined()
    const list = await post(server, [{ tags: ['t2'] }, { entity_id: 7, entity_type: 'user' }])
    expect(await list.json()).toMatchObject({ tags: ['t2', 'user:7'] })
    expect([await cache.get('b'), await cache.get('d'), await cache.get('e')]).toEqual([
      undefined,
      undefined,
      5,
    ])
  })

  it('accepts several keys and Authorization: Bearer; refuses a missing or wrong key', async () => {
    const server = await serve(createCache({}))
    expect((await post(server, { tags: ['t'] }, { 'x-api-key': 'k-2' })).status).toBe(200)
    const bearer = await fetch(`${server.url}/cache/invalidate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer k-1' },
      body: '{"tags":["t"]}',
    })
    expect(bearer.status).toBe(200)
    expect((await post(server, { tags: ['t'] }, { 'x-api-key': 'k-3' })).status).toBe(401)
    expect((await post(server, { tags: ['t'] }, { 'x-api-key': 'k-1x' })).status).toBe(401)
    const missing = await fetch(`${server.url}/cache/invalidate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"tags":["t"]}',
    })
    expect(missing.status).toBe(401)
    // The admin API and the metrics take the same keys.
    expect((await fetch(`${server.url}/api/cache/stats`)).status).toBe(401)
    const stats = await fetch(`${server.url}/api/cache/stats`, { headers: { 'x-api-key': 'k-2' } })
    expect(stats.status).toBe(200)
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401)
    const metrics = await fetch(`${server.url}/metrics`, { headers: { 'x-api-key': KEY } })
    expect(await metrics.text()).toContain('cachegraph_')
  })

  it('answers malformed requests with 4xx and a message, and stays healthy', async () => {
    const server = await serve(createCache({}))
    const bad = await post(server, '{"tags": [')
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: string }).error).toMatch(/JSON/)
    for (const body of [{}, { tags: [''] }, { tags: [1] }, [], [1], { entity_id: 1 }, 'null']) {
      const response = await post(server, body)
      expect(response.status, JSON.stringify(body)).toBe(400)
      expect(((await response.json()) as { error: string }).error).toMatch(/cachegraph/)
    }
    // The admin API's shapes are read too: one tag as a string, `stale` on one object.
    const one = await post(server, { tags: 'x', stale: true })
    expect(await one.json()).toMatchObject({ status: 'invalidated', tags: ['x'] })
    const flagged = await post(server, [{ tags: ['x'], stale: true }])
    expect(flagged.status).toBe(400)
    const text = await post(server, '{"tags":["t"]}', { 'content-type': 'text/plain' })
    expect(text.status).toBe(415)
    const get = await fetch(`${server.url}/cache/invalidate`, { headers: { 'x-api-key': KEY } })
    expect(get.status).toBe(405)
    expect(get.headers.get('allow')).toBe('POST')
    expect((await fetch(`${server.url}/health`, { method: 'POST' })).status).toBe(405)
    expect((await fetch(`${server.url}/nowhere`)).status).toBe(404)
    expect((await fetch(`${server.url}/health`)).status).toBe(200)
  })

  it('answers 413 to bodies past the limit (declared or streamed) and closes the connection', async () => {
    const server = await serve(createCache({}), { maxBodyBytes: 1024 })
    const huge = 20 * 1024 * 1024
    const declared = await postBytes(server.url, huge, { 'x-api-key': KEY }, true)
    expect(declared).toEqual({ status: 413, connection: 'close' })
    const streamed = await postBytes(server.url, huge, { 'x-api-key': KEY }, false)
    expect(streamed).toEqual({ status: 413, connection: 'close' })
    expect((await post(server, { tags: ['t'] })).status).toBe(200)
  })

  it('answers 503 with a message when the store did not record the invalidation', async () => {
    const store = faultyStore(memoryStore())
    const cache = createCache({ store })
    const server = await serve(cache)
    store.faults.set({ operations: ['invalidate'], error: true })
    const response = await post(server, { tags: ['t'] })
    expect(response.status).toBe(503)
    expect(await response.json()).toMatchObject({ code: 'E_INVALIDATION_NOT_RECORDED' })
    store.faults.heal()
  })

  it('purges configured CDNs after an invalidation: at once, then after maxSilence', async () => {
    const cache = createCache({})
    const purged: string[][] = []
    let twice: () => void = () => {}
    const second = new Promise<void>((resolve) => (twice = resolve))
    const purger = {
      purge: async (tags: readonly string[]) => {
        purged.push([...tags])
        if (purged.length === 2) twice()
      },
    }
    const handler = createInvalidationService({
      cache,
      apiKeys: [KEY],
      cdn: { vendor: 'fastly', purger, maxSilence: '20ms', awaitPurge: true },
    })
    const server = await listen({ handler, port: 0, onClose: () => cache.close() })
    open.push(server)
    const response = await post(server, { entity_id: 5, entity_type: 'user', keys: ['k'] })
    expect(response.status).toBe(200)
    // awaitPurge: the first purge settled before the answer.
    expect(purged).toEqual([['user:5']])
    await second
    expect(purged).toEqual([['user:5'], ['user:5']])
  })

  it('GET /health echoes the namespace and the store; HEAD answers without a body', async () => {
    const server = await serve(createCache({ namespace: 'shop', store: memoryStore() }))
    const health = await fetch(`${server.url}/health`)
    expect(await health.json()).toMatchObject({ status: 'ok', namespace: 'shop', store: 'memory' })
    const head = await fetch(`${server.url}/health`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(await head.text()).toBe('')
  })

  it('refuses to be created without keys unless insecure', () => {
    const cache = createCache({})
    open.push(cache)
    let error: unknown
    try {
      createInvalidationService({ cache, apiKeys: [] })
    } catch (e) {
      error = e
    }
    expect(isCacheError(error, 'E_INVALID_OPTION')).toBe(true)
    expect(() => createInvalidationService({ cache, apiKeys: [], insecure: true })).not.toThrow()
  })
})

describe('invalidation service (Redis + bus)', () => {
  it("drops the entry from another process's L1", async () => {
    const prefix = uniquePrefix()
    const url = inject('redisUrl')
    const app = createCache({ store: redisStore({ url, prefix }), bus: redisBus() })
    const central = createCache({ store: redisStore({ url, prefix }), bus: redisBus() })
    open.push(app)
    await new Promise((resolve) => app.on('bus:trusted', resolve))
    const server = await serve(central)
    let loads = 0
    const load = () => ++loads
    expect(await app.getOrSet('p', load, { tags: ['product:9'] })).toBe(1)
    expect(await app.getOrSet('p', load, { tags: ['product:9'] })).toBe(1)
    expect(app.stats().l1.hits).toBeGreaterThan(0)
    const heard = new Promise((resolve) =>
      app.on('bus:invalidate', (event) => event.tags.includes('product:9') && resolve(event)),
    )
    const started = performance.now()
    const response = await post(server, { entity_id: 9, entity_type: 'product' })
    expect(response.status).toBe(200)
    const { seq } = (await response.json()) as { seq: number }
    await heard
    const latency = performance.now() - started
    expect(latency).toBeLessThan(1_000)
    expect(app.stats().bus?.seq).toBeGreaterThanOrEqual(seq)
    expect(await app.getOrSet('p', load, { tags: ['product:9'] })).toBe(2)
    const health = await fetch(`${server.url}/health`)
    expect(await health.json()).toMatchObject({ store: 'redis', namespace: 'cg' })
  })

  it('with ?ack=1 answers once the other processes applied it (and says so)', async () => {
    const prefix = uniquePrefix()
    const url = inject('redisUrl')
    const app = createCache({ store: redisStore({ url, prefix }), bus: redisBus() })
    const central = createCache({ store: redisStore({ url, prefix }), bus: redisBus() })
    open.push(app)
    await Promise.all(
      [app, central].map((c) => new Promise((resolve) => c.on('bus:trusted', resolve))),
    )
    const server = await serve(central)
    let loads = 0
    const load = () => ++loads
    expect(await app.getOrSet('p', load, { tags: ['product:9'] })).toBe(1)
    expect(await app.getOrSet('p', load, { tags: ['product:9'] })).toBe(1)
    const response = await post(server, { entity_id: 9, entity_type: 'product' }, {}, '?ack=1')
    expect(response.status).toBe(200)
    const body = (await response.json()) as { fleet: { members: number; late: string[] } }
    expect(body.fleet).toMatchObject({ members: 1, acked: 1, late: [] })
    // No wait for the bus: the answer came after the app applied it.
    expect(await app.getOrSet('p', load, { tags: ['product:9'] })).toBe(2)
    expect((await post(server, { tags: ['t'] }, {}, '?ack=maybe')).status).toBe(400)
    expect((await post(server, { keys: ['p'] }, {}, '?ack=1')).status).toBe(400)
  })
})
