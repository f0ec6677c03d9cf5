import { describe, expect, it, vi } from 'vitest'

import { type AdminOptions, createAdminHandler } from '../../../src/http/admin/index.js'
import { jsonOf, makeCache, request } from './admin-fixtures.js'

const TOKEN = 'secret-token'
const byToken = (req: Request) => req.headers.get('authorization') === `Bearer ${TOKEN}`
const withToken = { authorization: `Bearer ${TOKEN}` }

describe('admin authorization', () => {
  it('refuses to be created without authorize unless insecure: true', () => {
    const cache = makeCache()
    const refused = (options: unknown, option: string) => {
      let thrown: unknown
      try {
        createAdminHandler(options as AdminOptions)
      } catch (error) {
        thrown = error
      }
      expect(thrown, JSON.stringify(Object.keys(options as object))).toMatchObject({
        name: 'CacheError',
        code: 'E_INVALID_OPTION',
        message: expect.stringContaining(`\`${option}\``) as string,
      })
    }
    refused({ cache }, 'admin.authorize')
    refused({ cache, insecure: false }, 'admin.authorize')
    refused({ cache, authorize: 'yes' }, 'admin.authorize')
    refused({ cache: {}, insecure: true }, 'admin.cache')
    refused({ cache, insecure: true, maxBodyBytes: 0 }, 'admin.maxBodyBytes')
    expect(() => createAdminHandler({ cache, insecure: true })).not.toThrow()
  })

  it('answers 401 without credentials and with wrong ones, and serves the right ones', async () => {
    const cache = makeCache()
    const handler = createAdminHandler({ cache, authorize: byToken })
    const missing = await handler(request('GET', '/api/cache/stats'))
    expect(missing?.status).toBe(401)
    expect(await jsonOf(missing)).toEqual({ error: expect.any(String) as string })
    const wrong = await handler(
      request('GET', '/api/cache/stats', { headers: { authorization: 'Bearer nope' } }),
    )
    expect(wrong?.status).toBe(401)
    expect(
      (await handler(request('GET', '/api/cache/stats', { headers: withToken })))?.status,
    ).toBe(200)
  })

  it('checks before doing anything: a denied DELETE deletes nothing, unknown paths answer 401', async () => {
    const cache = makeCache()
    await cache.set('k', 1)
    const handler = createAdminHandler({ cache, authorize: () => false })
    expect((await handler(request('DELETE', '/api/cache/keys/k')))?.status).toBe(401)
    expect((await handler(request('POST', '/api/cache/clear')))?.status).toBe(401)
    expect((await handler(request('GET', '/api/cache/secret-route')))?.status).toBe(401)
    expect(await cache.get('k')).toBe(1)
    // Outside the prefix it is not asked at all.
    expect(await handler(request('GET', '/elsewhere'))).toBeUndefined()
  })

  it('awaits an async authorize', async () => {
    const cache = makeCache()
    const handler = createAdminHandler({
      cache,
      authorize: async (req) => {
        await new Promise((resolve) => setImmediate(resolve))
        return byToken(req)
      },
    })
    expect((await handler(request('GET', '/api/cache/health')))?.status).toBe(401)
    expect(
      (await handler(request('GET', '/api/cache/health', { headers: withToken })))?.status,
    ).toBe(200)
  })

  it('only a literal true authorizes', async () => {
    const cache = makeCache()
    const truthy = (() => 'yes') as unknown as () => boolean
    const handler = createAdminHandler({ cache, authorize: truthy })
    expect((await handler(request('GET', '/api/cache/stats')))?.status).toBe(401)
  })

  it('answers 500 with a generic message when authorize throws or rejects, and reports it', async () => {
    const cache = makeCache()
    const onError = vi.fn()
    for (const authorize of [
      () => {
        throw new Error('db password is hunter2')
      },
      () => Promise.reject(new Error('db password is hunter2')),
    ]) {
      const handler = createAdminHandler({ cache, authorize, onError })
      const response = await handler(request('GET', '/api/cache/stats'))
      expect(response?.status).toBe(500)
      const body = await jsonOf(response)
      expect(JSON.stringify(body)).not.toContain('hunter2')
    }
    expect(onError).toHaveBeenCalledTimes(2)
    expect(onError).toHaveBeenCalledWith(expect.any(Error), expect.any(Request))
  })

  it('survives an onError that throws', async () => {
    const cache = makeCache()
    const handler = createAdminHandler({
      cache,
      authorize: () => {
        throw new Error('boom')
      },
      onError: () => {
        throw new Error('logger down')
      },
    })
    expect((await handler(request('GET', '/api/cache/stats')))?.status).toBe(500)
  })

  it("passes an adapter's own request to authorize", async () => {
    const cache = makeCache()
    interface FrameworkRequest {
      user?: { admin: boolean }
    }
    const handler = createAdminHandler<FrameworkRequest>({
      cache,
      authorize: (req) => req.user?.admin === true,
    })
    const fetchRequest = request('GET', '/api/cache/stats')
    expect((await handler(fetchRequest, { user: { admin: true } }))?.status).toBe(200)
    expect((await handler(fetchRequest, { user: { admin: false } }))?.status).toBe(401)
  })
})
