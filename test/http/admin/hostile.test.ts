import { describe, expect, it, vi } from 'vitest'

import { createAdminHandler } from '../../../src/http/admin/index.js'
import { memoryStore } from '../../../src/index.js'
import { faultyStore } from '../../../src/testing/index.js'
import { redisStore } from '../../../src/redis/store.js'
import { redisClient, uniquePrefix } from '../../helpers/tiers.js'
import { ADMIN_TIERS, jsonOf, makeCache, request } from './admin-fixtures.js'

const ONE_MB = 1_048_576

describe.each(ADMIN_TIERS)('hostile input (%s)', (_name, tiers) => {
  const setup = () => {
    const cache = makeCache(tiers())
    return { cache, handler: createAdminHandler({ cache, insecure: true }) }
  }

  it('answers 400 to a body that is not JSON, or not UTF-8', async () => {
    const { handler } = setup()
    for (const body of ['{"tags": [', '', 'undefined', new Uint8Array([0x7b, 0xff, 0x7d])]) {
      const response = await handler(
        request('POST', '/api/cache/invalidate', {
          body,
          headers: { 'content-type': 'application/json' },
        }),
      )
      expect(response?.status).toBe(400)
      expect((await jsonOf(response)).error).toMatch(/JSON/)
    }
  })

  it('answers 400 to bodies that are JSON but not an invalidation', async () => {
    const { handler } = setup()
    for (const json of [
      [],
      ['user:1'],
      null,
      42,
      {},
      { tags: [] },
      { tags: [''] },
      { tags: ['@key:app::x'] },
      { tags: [1] },
      { tags: { a: 1 } },
      { entity_type: 'product' },
      { entity_id: 1 },
      { entity_type: '', entity_id: 1 },
      { entity_type: 'product', entity_id: { $gt: 1 } },
      { tags: ['ok'], stale: 'yes' },
    ]) {
      const response = await handler(request('POST', '/api/cache/invalidate', { json }))
      expect(response?.status, JSON.stringify(json)).toBe(400)
      expect(typeof (await jsonOf(response)).error).toBe('string')
    }
  })

  it('answers 413 past 1 MB, by content-length and while reading a body without one', async () => {
    const { handler } = setup()
    const big = JSON.stringify({ tags: ['x'.repeat(ONE_MB)] })
    const declared = await handler(
      request('POST', '/api/cache/invalidate', { json: JSON.parse(big) }),
    )
    expect(declared?.status).toBe(413)

    let pulled = 0
    const chunk = new Uint8Array(64 * 1024).fill(0x20)
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++
        controller.enqueue(chunk)
      },
    })
    const streamed = await handler(
      request('POST', '/api/cache/invalidate', {
        body: endless,
        headers: { 'content-type': 'application/json' },
      }),
    )
    expect(streamed?.status).toBe(413)
    // It stopped reading just past the limit instead of buffering the stream.
    expect(pulled * chunk.byteLength).toBeLessThan(ONE_MB + 4 * chunk.byteLength)

    // Just under the limit is fine.
    const fits = await handler(
      request('POST', '/api/cache/invalidate', {
        json: { tags: ['ok'], pad: 'x'.repeat(ONE_MB - 100) },
      }),
    )
    expect(fits?.status).toBe(200)
  })

  it('answers 415 to POST /invalidate without a JSON content type', async () => {
    const { handler } = setup()
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', undefined]) {
      const response = await handler(
        request('POST', '/api/cache/invalidate', {
          body: '{"tags":["a"]}',
          headers: type === undefined ? {} : { 'content-type': type },
        }),
      )
      expect(response?.status, String(type)).toBe(415)
    }
    const vendor = await handler(
      request('POST', '/api/cache/invalidate', {
        json: { tags: ['a'] },
        headers: { 'content-type': 'application/vnd.api+json' },
      }),
    )
    expect(vendor?.status).toBe(200)
  })

  it('answers 405 with Allow to a wrong method on a known path', async () => {
    const { handler } = setup()
    for (const [method, path, allow] of [
      ['PUT', '/api/cache/keys', 'GET, HEAD'],
      ['POST', '/api/cache/keys/k', 'GET, HEAD, DELETE'],
      ['GET', '/api/cache/clear', 'POST'],
      ['GET', '/api/cache/invalidate', 'POST'],
      ['DELETE', '/api/cache/stats', 'GET, HEAD'],
      ['PATCH', '/api/cache/tags/t', 'GET, HEAD'],
    ] as const) {
      const response = await handler(request(method, path))
      expect(response?.status, `${method} ${path}`).toBe(405)
      expect(response?.headers.get('allow')).toBe(allow)
      expect(typeof (await jsonOf(response)).error).toBe('string')
    }
  })

  it('answers 404 to unknown paths under the prefix', async () => {
    const { handler } = setup()
    for (const path of [
      '/api/cache',
      '/api/cache/',
      '/api/cache/nope',
      '/api/cache/keys/',
      '/api/cache/tags/',
      '/api/cache/stats/extra',
      '/api/cache/__proto__',
      '/api/cache/constructor',
    ]) {
      const response = await handler(request('GET', path))
      expect(response?.status, path).toBe(404)
      expect(typeof (await jsonOf(response)).error).toBe('string')
    }
  })

  it('answers 400 to malformed parameters', async () => {
    const { handler } = setup()
    for (const [method, path] of [
      ['GET', '/api/cache/keys/%E0%A4%A'],
      ['GET', '/api/cache/keys/%'],
      ['GET', '/api/cache/keys/%00x'],
      ['GET', '/api/cache/tags/%ZZ'],
      ['GET', '/api/cache/keys?count=abc'],
      ['GET', '/api/cache/keys?cursor=1;FLUSHALL'],
      ['GET', '/api/cache/keys?pattern='],
      ['POST', '/api/cache/clear?pattern='],
      ['GET', '/api/cache/keys/k?namespace=other'],
      ['GET', '/api/cache/keys/k?namespace=app:b%20ad'],
      ['DELETE', '/api/cache/keys/k?namespace=app:'],
      ['GET', '/api/cache/tags/t?limit=many'],
    ] as const) {
      const response = await handler(request(method, path))
      expect(response?.status, `${method} ${path}`).toBe(400)
      expect(typeof (await jsonOf(response)).error).toBe('string')
    }
  })
})

describe('store failures', () => {
  it('answer 503 with a generic message, reported to onError', async () => {
    const store = faultyStore(memoryStore())
    const cache = makeCache({ store, l1: false })
    await cache.set('k', 1)
    const onError = vi.fn()
    const handler = createAdminHandler({ cache, insecure: true, onError })
    store.faults.set({ error: new Error('ECONNREFUSED 10.0.0.7:6379 password=x') })

    for (const [method, path] of [
      ['GET', '/api/cache/keys'],
      ['POST', '/api/cache/clear?pattern=*'],
    ] as const) {
      const response = await handler(request(method, path))
      expect(response?.status, `${method} ${path}`).toBe(503)
      const body = JSON.stringify(await jsonOf(response))
      expect(body).not.toContain('10.0.0.7')
    }
    expect(onError).toHaveBeenCalled()
  })

  it('an invalidation the store did not record answers 503 E_INVALIDATION_NOT_RECORDED', async () => {
    const store = faultyStore(memoryStore())
    const cache = makeCache({ store })
    await cache.set('k', 1, { tags: ['t'] })
    const handler = createAdminHandler({ cache, insecure: true })
    store.faults.set({ error: true, operations: ['invalidate'] })

    const response = await handler(
      request('POST', '/api/cache/invalidate', { json: { tags: ['t'] } }),
    )
    expect(response?.status).toBe(503)
    expect(await jsonOf(response)).toMatchObject({ code: 'E_INVALIDATION_NOT_RECORDED' })
    // Applied in this process all the same.
    expect(await cache.get('k')).toBeUndefined()
    expect((await jsonOf(await handler(request('GET', '/api/cache/stats')))).l2).toMatchObject({
      replay_queue: 1,
    })
  })

  it('a Redis that went away answers 503, not a crash', async () => {
    const store = redisStore({ client: redisClient().duplicate(), prefix: uniquePrefix() })
    const cache = makeCache({ store, l1: false })
    await cache.set('k', 1)
    const handler = createAdminHandler({ cache, insecure: true })
    store.client.disconnect()

    const keys = await handler(request('GET', '/api/cache/keys'))
    expect(keys?.status).toBe(503)
    const inspect = await handler(request('GET', '/api/cache/keys/k'))
    // cache.inspect() degrades quietly like every read: it cannot tell "absent" from "store down".
    expect(inspect?.status).toBe(404)
    const stats = await handler(request('GET', '/api/cache/stats'))
    expect(stats?.status).toBe(200)
  })
})
