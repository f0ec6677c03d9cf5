import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

import type { Express, NextFunction, Request, Response } from 'express'
import { afterEach, describe, expect, it } from 'vitest'

import cachegraphDefault, { cachegraph } from '../../src/adapters/express.js'
import type { CachegraphExpressOptions } from '../../src/adapters/express.js'
import { type Cache, createCache, isCacheError } from '../../src/index.js'
import { cases } from '../http/cases.js'
import { expressListening } from './express-driver.js'
import { type ExpressModule, expressVersions } from './express-versions.js'
import { send } from './fastify-driver.js'
import { type Req, type Res, runCases } from '../http/harness.js'

const open: { server: Server; cache: Cache }[] = []
afterEach(async () => {
  for (const { server, cache } of open.splice(0)) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    await cache.close()
  }
})

/** An app with the middleware, its routes declared by `routes`, listening on 127.0.0.1. */
async function start(
  express: ExpressModule,
  routes: (app: Express) => void,
  options: Omit<CachegraphExpressOptions, 'cache'> = {},
): Promise<{ request: (req: Req) => Promise<Res>; cache: Cache; port: number }> {
  const cache = createCache()
  const app = express()
  app.use(cachegraph({ cache, ...options }))
  routes(app)
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening))
  })
  open.push({ server, cache })
  const { port } = server.address() as AddressInfo
  return { request: (req) => send(port, req), cache, port }
}

const xCache = async (request: (req: Req) => Promise<Res>, req: Req) =>
  (await request(req)).headers['x-cache']

for (const { name, express } of expressVersions) {
  describe(`${name} on 127.0.0.1: shared HTTP behaviour`, () =>
    runCases(expressListening(express, name), cases))

  describe(`the Express middleware on ${name}`, () => {
    it('is also the default export', () => {
      expect(cachegraphDefault).toBe(cachegraph)
    })

    it('makes the cache reachable as req.cache and res.locals.cache, clear by pattern included', async () => {
      const seen: Cache[] = []
      const { request, cache } = await start(express, (app) => {
        app.get('/users/:id', cachegraph.route(), async (req, res) => {
          seen.push(req.cache, res.locals.cache)
          await req.cache.set('manual', 1, { tags: ['m'] })
          res.json({ id: req.params['id'] })
        })
      })
      expect(await xCache(request, '/users/1')).toBe('MISS')
      expect(seen).toEqual([cache, cache])
      expect(await cache.get('manual')).toBe(1)
      expect(await xCache(request, '/users/2')).toBe('MISS')
      expect(await cache.clear({ pattern: 'GET /users/1*' })).toBe(1)
      expect(await xCache(request, '/users/1')).toBe('MISS')
      expect(await xCache(request, '/users/2')).toBe('HIT')
    })

    it('leaves other middleware alone: wrappers of res.end, body parsers, on-finish hooks', async () => {
      const ended: string[] = []
      const finished: number[] = []
      let n = 0
      const { request, port } = await start(express, (app) => {
        app.use((_req: Request, res: Response, next: NextFunction) => {
          const end = res.end.bind(res) as (...args: unknown[]) => Response
          res.end = ((...args: unknown[]) => {
            ended.push(`${res.statusCode} ${String(res.getHeader('x-cache'))}`)
            return end(...args)
          }) as Response['end']
          res.on('finish', () => finished.push(res.statusCode))
          next()
        })
        app.use(express.json())
        app.get('/items/:id', cachegraph.route(), (req, res) => {
          res.json({ id: req.params['id'], n: ++n })
        })
        app.post('/items', (req, res) => {
          res.status(201).json({ id: (req.body as { id: number }).id })
        })
      })
      const miss = await request('/items/9')
      const hit = await request('/items/9')
      expect([miss.headers['x-cache'], hit.headers['x-cache']]).toEqual(['MISS', 'HIT'])
      expect(hit.body).toBe(miss.body)
      const created = await postJson(port, '/items', { id: 3 })
      expect([created.status, JSON.parse(created.body)]).toEqual([201, { id: 3 }])
      // Each response passed through the wrapper exactly once, with its final headers.
      expect(ended).toEqual(['200 MISS', '200 HIT', '201 undefined'])
      expect(finished).toEqual([200, 200, 201])
    })

    it('a write parsed by express.json() invalidates the entity in its JSON response', async () => {
      let created = false
      const { request, port } = await start(express, (app) => {
        app.use(express.json())
        app.get('/items/:id', cachegraph.route(), (req, res) => {
          if (created) res.json({ id: Number(req.params['id']) })
          else res.status(404).json({ error: 'not found' })
        })
        app.post('/items', (req, res) => {
          created = true
          res.status(201).json({ id: (req.body as { id: number }).id })
        })
      })
      expect((await request('/items/10')).status).toBe(404)
      expect(await xCache(request, '/items/10')).toBe('HIT')
      const res = await postJson(port, '/items', { id: 10 })
      expect(res.status).toBe(201)
      const again = await request('/items/10')
      expect([again.status, again.headers['x-cache']]).toEqual([200, 'MISS'])
    })

    it('cacheAll: routes without options are cached, a 404 of no route is not, route options take over', async () => {
      const { request } = await start(
        express,
        (app) => {
          app.use((req, _res, next) => {
            ;(req as Request & { user?: string }).user = req.headers['x-user'] as string | undefined
            next()
          })
          app.get(
            '/plain',
            (_req, res) => void res.json({ at: process.hrtime.bigint().toString() }),
          )
          const user = (req: Request) => (req as Request & { user?: string }).user
          app.get('/me', cachegraph.route({ varyBy: [user] }), (req, res) => {
            res.json({ me: user(req) })
          })
        },
        { cacheAll: true },
      )
      expect(await xCache(request, '/plain')).toBe('MISS')
      expect(await xCache(request, '/plain')).toBe('HIT')
      expect((await request('/nowhere')).status).toBe(404)
      expect(await xCache(request, '/nowhere')).toBe('SKIP')
      const as = (name: string) => request({ url: '/me', headers: { 'x-user': name } })
      expect(JSON.parse((await as('ann')).body)).toEqual({ me: 'ann' })
      expect(JSON.parse((await as('bob')).body)).toEqual({ me: 'bob' })
      const again = await as('ann')
      expect([again.headers['x-cache'], JSON.parse(again.body)]).toEqual(['HIT', { me: 'ann' }])
      const anonymous = await request('/me')
      expect([anonymous.headers['x-cache'], JSON.parse(anonymous.body)]).toEqual(['SKIP', {}])
    })

    it('uses the pattern of routes in mounted routers for tags', async () => {
      const { request, cache, port } = await start(express, (app) => {
        const api = express.Router()
        api.get('/users', cachegraph.route(), (_req, res) => void res.json([{ id: 1 }]))
        api.get('/users/:name', cachegraph.route({ keyPrefix: 'v2' }), (req, res) => {
          res.json({ name: req.params['name'] })
        })
        api.patch('/users/:name', (_req, res) => void res.json({ ok: true }))
        app.use('/api', api)
      })
      expect(await xCache(request, '/api/users')).toBe('MISS')
      expect(await xCache(request, '/api/users/ann')).toBe('MISS')
      expect((await cache.inspect(`v2:GET /api/users/ann @127.0.0.1:${port}`))?.tags).toEqual(
        expect.arrayContaining(['http:/api/users/ann', 'user:ann']),
      )
      // `ann` is no id by its look: only the route pattern says it is one.
      await request({ method: 'PATCH', url: '/api/users/ann' })
      expect(await xCache(request, '/api/users')).toBe('MISS')
      expect(await xCache(request, '/api/users/ann')).toBe('MISS')
    })

    it('rejects invalid options when created or declared, and routes before the middleware', async () => {
      const cache = createCache()
      expect(() => cachegraph({ cache, maxResponseBytes: -1 })).toThrow(/maxResponseBytes/)
      expect(() => cachegraph.route({ varyBy: ['bad header'] })).toThrow(/cache\.varyBy/)
      await cache.close()
      const app = express()
      let error: unknown
      app.get('/x', cachegraph.route(), (_req, res) => void res.json({}))
      app.use((e: unknown, _req: Request, res: Response, _next: NextFunction) => {
        error = e
        res.status(500).end()
      })
      const server = app.listen(0, '127.0.0.1')
      await new Promise((resolve) => server.once('listening', resolve))
      open.push({ server, cache: createCache() })
      expect((await send((server.address() as AddressInfo).port, '/x')).status).toBe(500)
      expect(isCacheError(error, 'E_INVALID_OPTION')).toBe(true)
    })

    // Express does not say which response an error middleware wrote: one with a storable status
    // (a 404) may be stored (docs/http.md); a 500 never is.
    it("errors reach the app's error middleware through next(err); its 500 is not stored", async () => {
      const seen: string[] = []
      let calls = 0
      const { request } = await start(express, (app) => {
        app.get('/fails', cachegraph.route(), (_req, _res, next) => {
          next(new Error(`failure ${++calls}`))
        })
        app.use((error: Error, req: Request, res: Response, _next: NextFunction) => {
          seen.push(`${req.url} ${error.message}`)
          res.status(500).json({ handled: error.message })
        })
      })
      for (const n of [1, 2]) {
        const res = await request('/fails')
        expect([res.status, res.headers['x-cache'], JSON.parse(res.body)]).toEqual([
          500,
          'SKIP',
          { handled: `failure ${n}` },
        ])
      }
      expect(seen).toEqual(['/fails failure 1', '/fails failure 2'])
    })

    it('serves the admin API behind authorize (given the Express request), body parser or not', async () => {
      for (const parse of [false, true]) {
        const { request, cache, port } = await start(
          express,
          (app) => {
            if (parse) app.use(express.json())
            app.get('/users', cachegraph.route(), (_req, res) => void res.json([{ id: 7 }]))
          },
          { admin: { authorize: (req) => req.headers['x-admin'] === 'yes' } },
        )
        expect(await xCache(request, '/users')).toBe('MISS')
        expect((await request('/api/cache/stats')).status).toBe(401)
        const stats = await request({ url: '/api/cache/stats', headers: { 'x-admin': 'yes' } })
        expect(JSON.parse(stats.body)).toMatchObject({ hits: 0, misses: 1 })
        const invalidated = await postJson(
          port,
          '/api/cache/invalidate',
          { entity_type: 'user', entity_id: 7 },
          { 'x-admin': 'yes' },
        )
        expect(invalidated.status).toBe(200)
        expect(await xCache(request, '/users')).toBe('MISS')
        expect(cache.stats().invalidations).toBe(1) // admin calls are not HTTP writes
      }
    })
  })
}

/** POSTs JSON with fetch (`send` sends no bodies). */
async function postJson(
  port: number,
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Res> {
  const res = await fetch(`http://127.0.0.1:${port}${url}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
  const out: Res['headers'] = {}
  res.headers.forEach((value, name) => void (out[name] = value))
  return { status: res.status, headers: out, body: await res.text() }
}
