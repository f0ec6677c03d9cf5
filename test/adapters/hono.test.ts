import type { AddressInfo } from 'node:net'

import { serve } from '@hono/node-server'
import { type Context, Hono } from 'hono'
import { describe, expect, it } from 'vitest'

import cachegraphDefault, { cachegraph } from '../../src/adapters/hono.js'
import type { CachegraphVariables } from '../../src/adapters/hono.js'
import { type Cache, createCache, isCacheError } from '../../src/index.js'
import { cases } from '../http/cases.js'
import { honoRequest } from './hono-driver.js'
import { runCases } from '../http/harness.js'

describe('hono app.request(): shared HTTP behaviour', () => runCases(honoRequest, cases))

type App = { request: (url: string, init?: RequestInit) => Response | Promise<Response> }

const xCache = async (app: App, url: string, init?: RequestInit) =>
  (await app.request(url, init)).headers.get('x-cache')

describe('the Hono middleware', () => {
  it("is also the default export, and the cache is c.var.cache / c.get('cache') in handlers", async () => {
    expect(cachegraphDefault).toBe(cachegraph)
    const cache = createCache()
    const app = new Hono<{ Variables: CachegraphVariables }>()
    app.use(cachegraph({ cache }))
    const seen: Cache[] = []
    app.get('/users/:id', cachegraph.route(), async (c) => {
      seen.push(c.get('cache'), c.var.cache)
      await c.get('cache').set('manual', 1)
      return c.json({ id: c.req.param('id') })
    })
    expect(await xCache(app, '/users/1')).toBe('MISS')
    expect(await xCache(app, '/users/1')).toBe('HIT')
    expect(seen).toEqual([cache, cache])
    expect(await cache.get('manual')).toBe(1)
    await cache.close()
  })

  it('leaves other middleware alone: one before it sees every response, one after it runs on every request', async () => {
    const cache = createCache()
    const app = new Hono()
    const before: string[] = []
    let after = 0
    app.use(async (c, next) => {
      await next()
      before.push(`${c.res.status} ${c.res.headers.get('x-cache')}`)
      c.header('x-served-by', 'test')
    })
    app.use(cachegraph({ cache }))
    app.use(async (_c, next) => {
      after++
      await next()
    })
    app.get('/a', cachegraph.route(), (c) => c.text('a'))
    app.post('/a', (c) => c.json({ ok: true }, 201))
    for (const url of ['/a', '/a']) {
      const res = await app.request(url)
      expect([await res.text(), res.headers.get('x-served-by')]).toEqual(['a', 'test'])
    }
    expect((await app.request('/a', { method: 'POST' })).status).toBe(201)
    expect(await xCache(app, '/a')).toBe('MISS') // the POST invalidated it
    expect(before).toEqual(['200 MISS', '200 HIT', '201 null', '200 MISS'])
    expect(after).toBe(4) // app middleware runs before the route's lookup: on the hit too
    await cache.close()
  })

  it('cacheAll: routes without options are cached, a 404 of no route is not, route options take over', async () => {
    const cache = createCache()
    const app = new Hono<{ Variables: { user: string | undefined } }>()
    app.use(cachegraph({ cache, cacheAll: true }))
    app.use(async (c, next) => {
      c.set('user', c.req.header('x-user'))
      await next()
    })
    let n = 0
    app.get('/plain', (c) => c.json({ n: ++n }))
    const user = (c: Context) => c.get('user') as string | undefined
    app.get('/me', cachegraph.route({ varyBy: [user] }), (c) => c.json({ me: user(c) ?? null }))
    expect(await xCache(app, '/plain')).toBe('MISS')
    expect(await xCache(app, '/plain')).toBe('HIT')
    expect((await app.request('/nowhere')).status).toBe(404)
    expect(await xCache(app, '/nowhere')).toBe(null)
    const as = (name: string) => app.request('/me', { headers: { 'x-user': name } })
    expect(await (await as('ann')).json()).toEqual({ me: 'ann' })
    expect(await (await as('bob')).json()).toEqual({ me: 'bob' })
    const again = await as('ann')
    expect([again.headers.get('x-cache'), await again.json()]).toEqual(['HIT', { me: 'ann' }])
    await cache.close()
  })

  it('uses the pattern of routes of mounted sub-apps for tags', async () => {
    const cache = createCache()
    const app = new Hono()
    app.use(cachegraph({ cache }))
    const api = new Hono()
    api.get('/users/:name', cachegraph.route(), (c) => c.json({ name: c.req.param('name') }))
    api.get('/users', cachegraph.route(), (c) => c.json([{ id: 1 }]))
    api.patch('/users/:name', (c) => c.json({ ok: true }))
    app.route('/api', api)
    expect(await xCache(app, '/api/users')).toBe('MISS')
    expect(await xCache(app, '/api/users/ann')).toBe('MISS')
    expect((await cache.inspect('GET /api/users/ann @localhost'))?.tags).toEqual(
      expect.arrayContaining(['http:/api/users/ann', 'user:ann']),
    )
    await app.request('/api/users/ann', { method: 'PATCH' })
    expect(await xCache(app, '/api/users')).toBe('MISS')
    expect(await xCache(app, '/api/users/ann')).toBe('MISS')
    await cache.close()
  })

  it('rejects invalid options when created or declared; serves the admin API behind authorize', async () => {
    const cache = createCache()
    expect(() => cachegraph({ cache, maxResponseBytes: -1 })).toThrow(/maxResponseBytes/)
    expect(() => cachegraph.route({ varyBy: ['bad header'] })).toThrow(/cache\.varyBy/)
    const app = new Hono()
    app.use(cachegraph({ cache, admin: { authorize: (c) => c.req.header('x-admin') === 'yes' } }))
    app.get('/users', cachegraph.route(), (c) => c.json([{ id: 7 }]))
    expect(await xCache(app, '/users')).toBe('MISS')
    expect((await app.request('/api/cache/stats')).status).toBe(401)
    const invalidated = await app.request('/api/cache/invalidate', {
      method: 'POST',
      headers: { 'x-admin': 'yes', 'content-type': 'application/json' },
      body: JSON.stringify({ entity_type: 'user', entity_id: 7 }),
    })
    expect(invalidated.status).toBe(200)
    expect(await xCache(app, '/users')).toBe('MISS')
    expect(cache.stats().invalidations).toBe(1) // admin calls are not HTTP writes
    await cache.close()
  })

  it('errors go to app.onError: a handler’s (its answer never stored), and the middleware’s own', async () => {
    const cache = createCache()
    const app = new Hono()
    const seen: string[] = []
    app.onError((error, c) => {
      seen.push(isCacheError(error) ? error.code : error.message)
      return c.json({ handled: error.message }, 404) // a storable status
    })
    app.get('/early', cachegraph.route(), (c) => c.text('never')) // before the middleware
    app.use(cachegraph({ cache }))
    let calls = 0
    app.get('/fails', cachegraph.route(), () => {
      throw new Error(`failure ${++calls}`)
    })
    for (const n of [1, 2]) {
      const res = await app.request('/fails')
      expect([res.status, res.headers.get('x-cache'), await res.json()]).toEqual([
        404,
        'SKIP',
        { handled: `failure ${n}` },
      ])
    }
    expect((await app.request('/early')).status).toBe(404)
    expect(seen).toEqual(['failure 1', 'failure 2', 'E_INVALID_OPTION'])
    await cache.close()
  })

  it('runs on Node with @hono/node-server', async () => {
    const cache = createCache()
    const app = new Hono()
    app.use(cachegraph({ cache }))
    app.get('/n', cachegraph.route(), (c) => c.json({ ok: true }))
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 })
    await new Promise((resolve) => server.once('listening', resolve))
    const { port } = server.address() as AddressInfo
    const statuses = []
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/n`)
      statuses.push(res.headers.get('x-cache'))
      expect(await res.json()).toEqual({ ok: true })
    }
    expect(statuses).toEqual(['MISS', 'HIT'])
    await new Promise((resolve) => server.close(resolve))
    await cache.close()
  })
})

// Type-level checks (compiled by `tsc --noEmit`, never run); typed c.var: hono.test-d.ts.
export function typeChecks(app: Hono<{ Variables: CachegraphVariables }>): void {
  app.get('/c', (c) => c.text(c.get('cache').name))
  // @ts-expect-error: not a duration
  cachegraph.route({ ttl: 'soon' })
}
