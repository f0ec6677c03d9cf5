import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it, vi } from 'vitest'

import cachegraphDefault, { cachegraph } from '../../src/adapters/fastify.js'
import type { CachegraphFastifyOptions } from '../../src/adapters/fastify.js'
import { type Cache, createCache, isCacheError, memoryStore } from '../../src/index.js'
import { fakeClock, faultyStore } from '../../src/testing/index.js'
import { deferred, until } from '../helpers/deferred.js'
import { cases } from '../http/cases.js'
import { fastifyInject, fastifyListening } from './fastify-driver.js'
import { runCases } from '../http/harness.js'

describe('fastify.inject(): shared HTTP behaviour', () => runCases(fastifyInject, cases))
describe('fastify on 127.0.0.1: shared HTTP behaviour', () => runCases(fastifyListening, cases))

const open: { app: FastifyInstance; cache: Cache }[] = []
afterEach(async () => {
  for (const { app, cache } of open.splice(0)) {
    await app.close()
    await cache.close()
  }
})

async function setup(
  options: Omit<CachegraphFastifyOptions, 'cache'> = {},
  cache: Cache = createCache(),
): Promise<{ app: FastifyInstance; cache: Cache }> {
  const app = Fastify()
  open.push({ app, cache })
  await app.register(cachegraph, { cache, ...options })
  return { app, cache }
}

const xCache = async (app: FastifyInstance, url: string): Promise<string | undefined> =>
  (await app.inject(url)).headers['x-cache'] as string | undefined

describe('the Fastify plugin', () => {
  it('is wrapped by fastify-plugin: named cachegraph, for Fastify 5, also the default export', () => {
    expect(cachegraphDefault).toBe(cachegraph)
    const meta = cachegraph as unknown as Record<symbol, unknown>
    expect(meta[Symbol.for('skip-override')]).toBe(true)
    expect(meta[Symbol.for('fastify.display-name')]).toBe('cachegraph')
    expect(meta[Symbol.for('plugin-meta')]).toMatchObject({ name: 'cachegraph', fastify: '5.x' })
  })

  it('is not encapsulated: its decorations and hooks reach the context it is registered in', async () => {
    const { app, cache } = await setup()
    expect([app.hasDecorator('cache'), app.hasRequestDecorator('cache')]).toEqual([true, true])
    // Routes of a plugin registered after it see the decorations and are cached.
    await app.register(
      async (api) => {
        api.get('/users/:id', { config: { cache: {} } }, async (request) => ({
          same: request.cache === cache && api.cache === cache,
        }))
      },
      { prefix: '/api' },
    )
    const miss = await app.inject('/api/users/1')
    expect([miss.headers['x-cache'], miss.json()]).toEqual(['MISS', { same: true }])
    expect(await xCache(app, '/api/users/1')).toBe('HIT')
  })

  it('registered inside a plugin, serves that plugin and its children only, as Fastify scopes do', async () => {
    const app = Fastify()
    const cache = createCache()
    open.push({ app, cache })
    await app.register(async (api) => {
      await api.register(cachegraph, { cache })
      expect(api.cache).toBe(cache)
      api.get('/inside', { config: { cache: {} } }, async () => ({ inside: true }))
    })
    app.get('/outside', { config: { cache: {} } }, async () => ({ inside: false }))
    expect(app.hasDecorator('cache')).toBe(false)
    expect(await xCache(app, '/inside')).toBe('MISS')
    expect(await xCache(app, '/inside')).toBe('HIT')
    expect(await xCache(app, '/outside')).toBeUndefined()
  })

  it("errors go through Fastify's error handler; what it answers is never stored", async () => {
    const { app } = await setup()
    const seen: string[] = []
    app.setErrorHandler((error: Error, request, reply) => {
      seen.push(`${request.url} ${error.message}`)
      return reply.code(404).send({ handled: error.message }) // a storable status
    })
    let calls = 0
    app.get('/fails', { config: { cache: {} } }, async () => {
      throw new Error(`failure ${++calls}`)
    })
    for (const n of [1, 2]) {
      const res = await app.inject('/fails')
      expect([res.statusCode, res.headers['x-cache'], res.json()]).toEqual([
        404,
        'SKIP',
        { handled: `failure ${n}` },
      ])
    }
    expect(seen).toEqual(['/fails failure 1', '/fails failure 2'])
  })

  it('decorates the app and requests with the cache for manual use, clear by pattern included', async () => {
    const { app, cache } = await setup()
    let seen: Cache | undefined
    app.get('/users/:id', { config: { cache: {} } }, async (request) => {
      seen = request.cache
      await request.cache.set('manual', 1, { tags: ['m'] })
      return { id: (request.params as { id: string }).id }
    })
    expect(app.cache).toBe(cache)
    expect(await xCache(app, '/users/1')).toBe('MISS')
    expect(seen).toBe(cache)
    expect(await app.cache.get('manual')).toBe(1)
    await app.cache.invalidate('m')
    expect(await app.cache.get('manual')).toBeUndefined()
    expect(await xCache(app, '/users/2')).toBe('MISS')
    expect(await app.cache.clear({ pattern: 'GET /users/1*' })).toBe(1)
    expect(await xCache(app, '/users/1')).toBe('MISS')
    expect(await xCache(app, '/users/2')).toBe('HIT')
  })

  it('rejects invalid plugin options when registered, naming the option', async () => {
    const app = Fastify()
    const cache = createCache()
    let error: unknown
    try {
      await app.register(cachegraph, { cache, maxResponseBytes: -1 })
    } catch (e) {
      error = e
    }
    expect(isCacheError(error, 'E_INVALID_OPTION')).toBe(true)
    expect((error as Error).message).toContain('maxResponseBytes')
    await app.close().catch(() => {})
    await cache.close()
  })

  it('rejects invalid route options when the route is declared, not per request', async () => {
    const { app } = await setup()
    expect(() =>
      app.get('/x', { config: { cache: { varyBy: ['bad header'] } } }, () => ({})),
    ).toThrow(/cache\.varyBy/)
    expect(() => app.get('/y', { config: { cache: { ttl: 'soon' as '1s' } } }, () => ({}))).toThrow(
      /cache\.ttl/,
    )
    expect(() => app.get('/z', { config: { cache: { keyPrefix: 'a b' } } }, () => ({}))).toThrow(
      /keyPrefix/,
    )
  })

  it('caches every handler style: sync value, async value, reply.send later, return reply', async () => {
    const { app } = await setup()
    const calls = vi.fn()
    app.get('/sync', { config: { cache: {} } }, () => (calls('sync'), { s: 1 }))
    app.get('/async', { config: { cache: {} } }, async () => (calls('async'), { a: 1 }))
    app.get('/later', { config: { cache: {} } }, (_request, reply) => {
      calls('later')
      setTimeout(() => void reply.send({ l: 1 }), 2)
    })
    app.get('/reply', { config: { cache: {} } }, async (_request, reply) => {
      calls('reply')
      await reply.code(203).send({ r: 1 })
      return reply
    })
    for (const url of ['/sync', '/async', '/later', '/reply']) {
      const miss = await app.inject(url)
      const hit = await app.inject(url)
      expect([miss.headers['x-cache'], hit.headers['x-cache']]).toEqual(['MISS', 'HIT'])
      expect(hit.body).toBe(miss.body)
      expect(hit.statusCode).toBe(miss.statusCode)
    }
    expect(calls.mock.calls.map(([name]) => name as string)).toEqual([
      'sync',
      'async',
      'later',
      'reply',
    ])
  })

  it('answers once, without warnings, handlers that reply.send() without returning reply', async () => {
    const logs: string[] = []
    const app = Fastify({
      logger: { level: 'warn', stream: { write: (l: string) => logs.push(l) } },
    })
    const cache = createCache()
    open.push({ app, cache })
    await app.register(cachegraph, { cache })
    app.get('/g', { config: { cache: {} } }, async (_request, reply) => {
      void reply.send({ id: 1 })
    })
    app.post('/items', async (_request, reply) => {
      void reply.code(201).send({ id: 2 })
    })
    expect(await xCache(app, '/g')).toBe('MISS')
    expect(await xCache(app, '/g')).toBe('HIT')
    const skipped = await app.inject({ url: '/g', headers: { authorization: 'Bearer x' } })
    expect([skipped.statusCode, skipped.headers['x-cache']]).toEqual([200, 'SKIP'])
    expect((await app.inject({ method: 'POST', url: '/items' })).json()).toEqual({ id: 2 })
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(logs).toEqual([])
  })

  it('never stores errors: reply.send(error), a thrown 404; a 404 sent normally is cached', async () => {
    const { app } = await setup()
    const calls = vi.fn()
    app.get('/sent-error', { config: { cache: {} } }, (_request, reply) => {
      calls()
      void reply.send(new Error('boom'))
    })
    app.get('/thrown-404', { config: { cache: {} } }, async () => {
      calls()
      throw Object.assign(new Error('missing'), { statusCode: 404 })
    })
    app.get('/plain-404', { config: { cache: {} } }, async (_request, reply) =>
      reply.code(404).send({ missing: true }),
    )
    for (const url of ['/sent-error', '/sent-error', '/thrown-404', '/thrown-404']) {
      const res = await app.inject(url)
      expect(res.headers['x-cache']).toBe('SKIP')
    }
    expect(calls).toHaveBeenCalledTimes(4)
    expect(await xCache(app, '/plain-404')).toBe('MISS')
    expect(await xCache(app, '/plain-404')).toBe('HIT')
  })

  it('a hijacked reply is not stored and does not hang the requests that follow', async () => {
    const { app } = await setup()
    const calls = vi.fn()
    app.get('/raw', { config: { cache: {} } }, (_request, reply) => {
      calls()
      reply.hijack()
      reply.raw.end('raw body')
    })
    expect((await app.inject('/raw')).body).toBe('raw body')
    expect((await app.inject('/raw')).body).toBe('raw body')
    expect(calls).toHaveBeenCalledTimes(2)
  })

  it('requests that joined a failed load run their own handler instead of sharing its error', async () => {
    const { app } = await setup()
    const gate = deferred<void>()
    let calls = 0
    app.get('/flaky', { config: { cache: {} } }, async () => {
      if (++calls === 1) {
        await gate.promise
        throw new Error('first call fails')
      }
      return { calls }
    })
    const all = Promise.all([app.inject('/flaky'), app.inject('/flaky'), app.inject('/flaky')])
    await until(() => calls === 1)
    gate.resolve()
    const [first, ...others] = await all
    expect(first?.statusCode).toBe(500)
    for (const res of others) {
      expect(res.statusCode).toBe(200)
      expect(res.headers['x-cache']).toBe('SKIP')
    }
    expect(calls).toBe(3)
  })

  it("a hit is answered after the app's hooks ran, and through its onSend hooks", async () => {
    const { app, cache } = await setup()
    app.addHook('preHandler', async (request, reply) => {
      if (request.headers['x-key'] !== 'open') await reply.code(403).send({ refused: true })
    })
    const seen: string[] = []
    app.addHook('onSend', async (request, reply, payload) => {
      seen.push(`${request.url} ${String(reply.getHeader('x-cache'))}`)
      reply.header('x-app', 'yes')
      return payload
    })
    let runs = 0
    app.get('/doc', { config: { cache: {} } }, async () => ({ n: ++runs }))
    const get = (key: string) => app.inject({ url: '/doc', headers: { 'x-key': key } })
    expect((await get('open')).headers['x-cache']).toBe('MISS')
    const hits = cache.stats().hits
    const hit = await get('open')
    expect([hit.statusCode, hit.headers['x-cache'], hit.headers['x-app']]).toEqual([
      200,
      'HIT',
      'yes',
    ])
    expect([hit.json(), runs, cache.stats().hits]).toEqual([{ n: 1 }, 1, hits + 1])
    const refused = await get('closed')
    expect([refused.statusCode, refused.json()]).toEqual([403, { refused: true }])
    expect(refused.headers['x-cache']).toBeUndefined()
    expect(seen).toEqual(['/doc MISS', '/doc HIT', '/doc undefined'])
  })

  it("varyBy functions run after the app's authentication hooks", async () => {
    const { app } = await setup()
    app.decorateRequest('user', undefined)
    app.addHook('preHandler', async (request) => {
      const name = request.headers['x-user']
      ;(request as unknown as { user?: string }).user = typeof name === 'string' ? name : undefined
    })
    app.get(
      '/whoami',
      {
        config: { cache: { varyBy: [(req) => (req as unknown as { user?: string }).user] } },
      },
      async (request) => ({ user: (request as unknown as { user?: string }).user }),
    )
    const as = (user: string) => app.inject({ url: '/whoami', headers: { 'x-user': user } })
    expect((await as('ann')).json()).toEqual({ user: 'ann' })
    expect((await as('bob')).json()).toEqual({ user: 'bob' })
    const again = await as('ann')
    expect(again.headers['x-cache']).toBe('HIT')
    expect(again.json()).toEqual({ user: 'ann' })
  })

  it('uses the route pattern of prefixed plugins for tags, and keyPrefix for keys', async () => {
    const { app, cache } = await setup()
    await app.register(
      async (api) => {
        api.get('/users', { config: { cache: {} } }, async () => [{ id: 1 }])
        api.get('/users/:name', { config: { cache: { keyPrefix: 'v2' } } }, async (request) => ({
          name: (request.params as { name: string }).name,
        }))
        api.patch('/users/:name', async () => ({ ok: true }))
      },
      { prefix: '/api' },
    )
    expect(await xCache(app, '/api/users')).toBe('MISS')
    expect(await xCache(app, '/api/users/ann')).toBe('MISS')
    expect((await cache.inspect('v2:GET /api/users/ann @localhost:80'))?.tags).toEqual(
      expect.arrayContaining(['http:/api/users/ann', 'http:/api/users/*', 'user:ann']),
    )
    // `ann` is no id by its look: only the route pattern says it is one.
    await app.inject({ method: 'PATCH', url: '/api/users/ann' })
    expect(await xCache(app, '/api/users')).toBe('MISS')
    expect(await xCache(app, '/api/users/ann')).toBe('MISS')
  })

  it('caches the GET of a route declared for several methods, and its POST invalidates', async () => {
    const { app } = await setup()
    let n = 0
    app.route({
      method: ['GET', 'POST'],
      url: '/both',
      config: { cache: {} },
      handler: async () => ({ n: ++n }),
    })
    expect(await xCache(app, '/both')).toBe('MISS')
    expect(await xCache(app, '/both')).toBe('HIT')
    const post = await app.inject({ method: 'POST', url: '/both' })
    expect(post.headers['x-cache']).toBeUndefined()
    expect(await xCache(app, '/both')).toBe('MISS')
  })

  it('honours statuses and ttl options; Age counts by the clock', async () => {
    const clock = fakeClock()
    const cache = createCache({ clock })
    const { app } = await setup({ statuses: [200], ttl: '10s', clock }, cache)
    app.get('/ok', { config: { cache: {} } }, async () => ({}))
    app.get('/short', { config: { cache: { ttl: '1s' } } }, async () => ({}))
    app.get('/missing', { config: { cache: {} } }, async (_request, reply) =>
      reply.code(404).send(),
    )
    expect(await xCache(app, '/missing')).toBe('SKIP')
    expect(await xCache(app, '/ok')).toBe('MISS')
    expect(await xCache(app, '/short')).toBe('MISS')
    clock.advance(5_000)
    const hit = await app.inject('/ok')
    expect(hit.headers['x-cache']).toBe('HIT')
    expect(hit.headers['age']).toBe('5')
    expect(await xCache(app, '/short')).toBe('MISS')
    clock.advance(5_000)
    expect(await xCache(app, '/ok')).toBe('MISS')
  })
})

describe('the Fastify plugin with a shared store', () => {
  it('sends a write only after its invalidation completed, and a MISS only once stored', async () => {
    const store = faultyStore(memoryStore(), {
      faults: [{ operations: ['invalidate', 'write'], latencyMs: 30 }],
    })
    const { app, cache } = await setup({}, createCache({ store }))
    app.get('/items/:id', { config: { cache: {} } }, async () => ({ at: Date.now() }))
    app.patch('/items/:id', async () => ({ ok: true }))
    expect(await xCache(app, '/items/1')).toBe('MISS')
    // Read back from the store, not from this process's memory.
    const entry = await store.read(['cg::GET /items/1 @localhost:80'])
    expect(entry.entries[0]).toBeDefined()
    expect(await xCache(app, '/items/1')).toBe('HIT')
    const patched = await app.inject({ method: 'PATCH', url: '/items/1' })
    expect(patched.statusCode).toBe(200)
    expect(await xCache(app, '/items/1')).toBe('MISS')
    expect(cache.stats().invalidations).toBe(1) // admin calls are not HTTP writes
  })

  it('a write whose invalidation the store did not record is still answered, and reported', async () => {
    const store = faultyStore(memoryStore())
    const errors: unknown[] = []
    const reported: unknown[] = []
    const cache = createCache({ store, storeTimeout: { invalidate: '100ms' } })
    cache.on('error', ({ error }) => errors.push(error))
    const { app } = await setup({ onError: (error) => reported.push(error) }, cache)
    app.get('/items/:id', { config: { cache: {} } }, async () => ({ id: 1 }))
    app.patch('/items/:id', async () => ({ ok: true }))
    expect(await xCache(app, '/items/1')).toBe('MISS')
    store.faults.set({ operations: ['invalidate'], error: true })
    const patched = await app.inject({ method: 'PATCH', url: '/items/1' })
    expect(patched.statusCode).toBe(200)
    expect(patched.json()).toEqual({ ok: true })
    expect(errors.length).toBeGreaterThan(0)
    expect(reported).toHaveLength(1)
    expect(isCacheError(reported[0], 'E_INVALIDATION_NOT_RECORDED')).toBe(true)
    // Applied in this process all the same.
    expect(await xCache(app, '/items/1')).toBe('MISS')
  })
})

// Type-level checks of the module augmentation (compiled by `tsc --noEmit`, never run).
export function typeChecks(app: FastifyInstance): void {
  app.get(
    '/ok',
    { config: { cache: { ttl: '5m', varyBy: ['accept', (req) => req.id], public: true } } },
    () => ({}),
  )
  // @ts-expect-error: not a duration
  app.get('/bad', { config: { cache: { ttl: 'soon' } } }, () => ({}))
  // @ts-expect-error: varyBy entries are header names or functions
  app.get('/bad2', { config: { cache: { varyBy: [42] } } }, () => ({}))
  app.get('/c', async (request) => {
    const cache: Cache = request.cache
    return cache.name
  })
}

describe('the Fastify plugin with the admin API', () => {
  it('refuses to start without authorize unless insecure', async () => {
    const app = Fastify()
    const cache = createCache()
    open.push({ app, cache })
    const admin = JSON.parse('{}') as { insecure: true } // neither authorize nor insecure
    await expect(app.register(cachegraph, { cache, admin })).rejects.toThrow(/admin.authorize/)
  })

  it('mounts the admin routes under the prefix, behind authorize (which gets the Fastify request)', async () => {
    const seen: unknown[] = []
    const { app, cache } = await setup({
      admin: {
        authorize: (request) => {
          seen.push(request.headers['x-admin'])
          return request.headers['x-admin'] === 'yes'
        },
      },
    })
    app.get('/users', { config: { cache: {} } }, () => [{ id: 7, name: 'Ann' }])
    expect(await xCache(app, '/users')).toBe('MISS')
    expect(await xCache(app, '/users')).toBe('HIT')
    expect((await app.inject('/api/cache/stats')).statusCode).toBe(401)
    const admin = { 'x-admin': 'yes' }
    const stats = await app.inject({ url: '/api/cache/stats', headers: admin })
    expect(stats.statusCode).toBe(200)
    expect(stats.json()).toMatchObject({ hits: 1, misses: 1 })
    const keys = await app.inject({ url: '/api/cache/keys', headers: admin })
    expect(keys.json<{ keys: unknown[] }>().keys.length).toBeGreaterThan(0)
    const invalidated = await app.inject({
      method: 'POST',
      url: '/api/cache/invalidate',
      headers: admin,
      payload: { entity_type: 'user', entity_id: 7 },
    })
    expect(invalidated.statusCode).toBe(200)
    expect(invalidated.json()).toMatchObject({ status: 'invalidated', tags: ['user:7'] })
    expect(await xCache(app, '/users')).toBe('MISS') // the listing contained user 7
    expect(seen).toContain('yes')
    expect(cache.stats().invalidations).toBe(1) // admin calls are not HTTP writes
  })
})
