import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'

import { cachegraph } from '../../../src/adapters/fastify.js'
import {
  type CdnOption,
  cloudflarePurger,
  fastlyPurger,
  type HttpCacheOptions,
  purgeTags,
  varnishPurger,
  VENDORS,
} from '../../../src/http/index.js'
import { type Cache, createCache, dependsOn } from '../../../src/index.js'
import { fakeClock } from '../../../src/testing/index.js'
import { until } from '../../helpers/deferred.js'
import { fakeEndpoint } from './endpoint.js'

const fast = { minDelay: '1ms', maxDelay: '5ms' } as const
let cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn()
  cleanup = []
})

async function app(cdn: CdnOption, more: Omit<HttpCacheOptions, 'cache' | 'cdn'> = {}) {
  // With a clock, the cache's entries (and so the edge's lifetimes) are on it too.
  const cache = createCache({
    ttl: '5m',
    ...(more.clock === undefined ? {} : { clock: more.clock }),
  })
  const server = Fastify()
  const errors: { error: unknown; operation: string }[] = []
  await server.register(cachegraph, {
    cache,
    cdn,
    onError: (error, context) => errors.push({ error, operation: context.operation }),
    ...more,
  })
  declare(server, cache)
  await server.ready()
  cleanup.push(async () => {
    await server.close()
    await cache.close()
  })
  return { server, cache, errors }
}

function declare(server: FastifyInstance, cache: Cache): void {
  const team = cache.wrap(async (id: number) => ({ id }), {
    name: 'team',
    tags: ([id]) => [`team:${id}`],
  })
  server.get('/users/:id', { config: { cache: { ttl: '1m' } } }, async (req) => {
    const id = (req.params as { id: string }).id
    dependsOn(`org:Acme Inc`)
    return { id: Number(id), team: await team(3) }
  })
  server.get('/own', { config: { cache: {} } }, async (_req, reply) => {
    reply.header('cache-control', 'public, max-age=30')
    return { ok: true }
  })
  server.get('/private', { config: { cache: {} } }, async (_req, reply) => {
    reply.header('set-cookie', 'a=1')
    return { ok: true }
  })
  server.patch('/users/:id', async (req) => ({ id: Number((req.params as { id: string }).id) }))
}

describe('CDN headers through the Fastify plugin', () => {
  it('fastly: a MISS and a HIT carry every tag of the response in Surrogate-Key', async () => {
    const { server } = await app('fastly')
    const miss = await server.inject({ url: '/users/7' })
    expect(miss.headers['x-cache']).toBe('MISS')
    const keys = String(miss.headers['surrogate-key']).split(' ')
    expect(keys).toEqual(
      expect.arrayContaining([
        'http:/users/7',
        'http:/users/*',
        'http:/users/7/*',
        'user:7',
        'org:Acme%20Inc', // dependsOn
        'team:3', // a cached call the handler made
      ]),
    )
    expect(keys.some((k) => k.startsWith('@'))).toBe(false)
    expect(miss.headers['surrogate-control']).toBe('max-age=60')
    expect(miss.headers['cache-control']).toBe('max-age=0, must-revalidate')
    const hit = await server.inject({ url: '/users/7' })
    expect(hit.headers['x-cache']).toBe('HIT')
    expect(hit.headers['surrogate-key']).toBe(miss.headers['surrogate-key'])
    expect(hit.headers['surrogate-control']).toMatch(/^max-age=(59|60)$/)
  })

  it('the edge lifetime counts down on hits, by the options clock', async () => {
    let now = 1_000_000
    const { server } = await app('cloudflare', { clock: { now: () => now } })
    const miss = await server.inject({ url: '/users/1' })
    expect(miss.headers['cloudflare-cdn-cache-control']).toBe('max-age=60')
    expect(String(miss.headers['cache-tag']).split(',')).toContain('http:/users/1')
    now += 25_000
    const hit = await server.inject({ url: '/users/1' })
    expect(hit.headers['x-cache']).toBe('HIT')
    expect(hit.headers['cloudflare-cdn-cache-control']).toBe('max-age=35')
  })

  it("keeps the app's own Cache-Control for browsers; its max-age bounds the edge's too", async () => {
    // Time stands still: the lifetime left when the edge headers are written is exactly 30 s.
    const { server } = await app('varnish', { clock: fakeClock() })
    const res = await server.inject({ url: '/own' })
    expect(res.headers['cache-control']).toBe('public, max-age=30')
    expect(res.headers['xkey']).toMatch(/^http:\/own /)
    // The route's ttl is 5 min, but `max-age=30` is the response's lifetime in a shared cache
    // too (RFC 9111 §4.2.1): the entry, and so the edge, keep it 30 s.
    expect(res.headers['surrogate-control']).toBe('max-age=30')
  })

  it('akamai: a response that is not stored is kept from the edge (nothing could purge it)', async () => {
    const { server } = await app('akamai')
    const res = await server.inject({ url: '/private' })
    expect(res.headers['x-cache']).toBe('SKIP')
    expect(res.headers['akamai-cache-control']).toBe('no-store')
    expect(res.headers['cache-control']).toBe('private, no-cache')
    expect(res.headers['edge-cache-tag']).toBeUndefined()
    const tagged = await server.inject({ url: '/users/2' })
    expect(tagged.headers['edge-cache-tag']).toMatch(/^http%3A%2Fusers%2F2,/)
  })

  it('rejects a bad cdn option, and a purger of another vendor, when the plugin registers', async () => {
    const cache = createCache()
    cleanup.push(() => cache.close())
    await expect(
      Fastify()
        .register(cachegraph, { cache, cdn: 'edgio' as 'fastly' })
        .ready(),
    ).rejects.toThrow(/cdn/)
    const purger = varnishPurger({ url: 'http://127.0.0.1:1/' })
    await expect(
      Fastify()
        .register(cachegraph, { cache, cdn: { vendor: 'fastly', purger } })
        .ready(),
    ).rejects.toThrow(/purges varnish/)
  })
})

describe('a write purges the edge', () => {
  const writeTags = ['http:/users/7/*', 'http:/users', 'http:/', 'user:7']

  it('fastly: once at once, once more after maxSilence, with the same keys as the headers', async () => {
    const endpoint = await fakeEndpoint()
    cleanup.push(endpoint.close)
    const purger = fastlyPurger({ serviceId: 'svc', apiToken: 'tok', baseUrl: endpoint.url })
    const { server } = await app({ vendor: 'fastly', purger, maxSilence: '400ms' })
    const cached = await server.inject({ url: '/users/7' })
    const patch = await server.inject({ method: 'PATCH', url: '/users/7' })
    expect(patch.statusCode).toBe(200)
    await until(() => endpoint.received.length >= 1)
    const first = endpoint.received[0]
    expect(first?.method).toBe('POST')
    expect(first?.url).toBe('/service/svc/purge')
    expect(first?.headers['fastly-key']).toBe('tok')
    expect(first?.headers['fastly-soft-purge']).toBe('1')
    const keys = (JSON.parse(first?.body ?? '') as { surrogate_keys: string[] }).surrogate_keys
    expect(keys).toEqual(purgeTags(writeTags, VENDORS.fastly))
    // Every purged tag the cached response carried is in its Surrogate-Key.
    const carried = String(cached.headers['surrogate-key']).split(' ')
    expect(keys.filter((k) => carried.includes(k))).toEqual(['http:/users/7/*', 'user:7'])
    // Not yet the second purge...
    expect(endpoint.received).toHaveLength(1)
    await until(() => endpoint.received.length >= 2)
    expect(endpoint.received[1]?.body).toBe(first?.body)
    // ...and no third.
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(endpoint.received).toHaveLength(2)
  })

  it('cloudflare: retries a 5xx, and with awaitPurge the response waits for the purge', async () => {
    const endpoint = await fakeEndpoint((_, i) => ({ status: i === 0 ? 502 : 200 }))
    cleanup.push(endpoint.close)
    const purger = cloudflarePurger({
      zoneId: 'z',
      apiToken: 'cf',
      baseUrl: endpoint.url,
      retry: fast,
    })
    const { server } = await app({
      vendor: 'cloudflare',
      purger,
      // Long enough that the second purge cannot come before the response on a busy machine.
      maxSilence: '400ms',
      awaitPurge: true,
    })
    await server.inject({ method: 'PATCH', url: '/users/7' })
    expect(endpoint.received).toHaveLength(2) // the 502, then its retry, before the response
    for (const req of endpoint.received) {
      expect(req.url).toBe('/zones/z/purge_cache')
      expect(req.headers.authorization).toBe('Bearer cf')
      expect(JSON.parse(req.body)).toEqual({ tags: purgeTags(writeTags, VENDORS.cloudflare) })
    }
    await until(() => endpoint.received.length >= 3)
  })

  it('a failed purge is reported (onError and the cache error event), never thrown', async () => {
    const endpoint = await fakeEndpoint(() => ({ status: 500 }))
    cleanup.push(endpoint.close)
    const retry = { ...fast, retries: 1 }
    const purger = varnishPurger({ url: endpoint.url, retry })
    const { server, cache, errors } = await app({ vendor: 'varnish', purger, maxSilence: '10s' })
    const events: string[] = []
    cache.on('error', (e) => events.push(e.operation))
    const patch = await server.inject({ method: 'PATCH', url: '/users/7' })
    expect(patch.statusCode).toBe(200)
    await until(() => errors.length >= 1)
    expect(errors[0]?.operation).toBe('cdn:purge')
    expect(errors[0]?.error).toMatchObject({ code: 'E_PURGE_FAILED' })
    expect(events).toEqual(['cdn:purge'])
    expect(endpoint.received.map((r) => r.method)).toEqual(['PURGE', 'PURGE'])
  })

  it('a failed write, or a read, purges nothing', async () => {
    const endpoint = await fakeEndpoint()
    cleanup.push(endpoint.close)
    const purger = fastlyPurger({ serviceId: 's', apiToken: 't', baseUrl: endpoint.url })
    const { server } = await app({ vendor: 'fastly', purger, maxSilence: '20ms' })
    await server.inject({ url: '/users/7' })
    await server.inject({ method: 'PATCH', url: '/nowhere/1' })
    await new Promise((resolve) => setTimeout(resolve, 60))
    expect(endpoint.received).toHaveLength(0)
  })
})
