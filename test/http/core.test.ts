import { afterEach, describe, expect, it } from 'vitest'

import {
  Capture,
  createHttpCache,
  exchangeOf,
  MAX_LEARNED_VARY,
  type CapturedResponse,
  type HttpCache,
  type HttpCacheOptions,
  type HttpRoute,
} from '../../src/http/index.js'
import { type Cache, createCache, isCacheError } from '../../src/index.js'

/** The core driven directly, without a framework: `run` answers with a fixed response. */
const caches: Cache[] = []
afterEach(async () => {
  for (const cache of caches.splice(0)) await cache.close()
})

function core(options: Omit<HttpCacheOptions, 'cache'> = {}) {
  const cache = createCache()
  caches.push(cache)
  const errors: { error: unknown; operation: string }[] = []
  const http = createHttpCache({
    cache,
    onError: (error, { operation }) => errors.push({ error, operation }),
    ...options,
  })
  return { cache, http, errors }
}

const ok = (body = '{"id":1}', headers: CapturedResponse['headers'] = {}): CapturedResponse => ({
  status: 200,
  headers: { 'content-type': 'application/json', ...headers },
  body,
})

async function serve(
  http: HttpCache,
  route: HttpRoute,
  url: string,
  response: CapturedResponse,
  headers: Record<string, string> = {},
) {
  let ran = 0
  let released: Readonly<Record<string, string>> | undefined
  const outcome = await http.serve(route, exchangeOf({}, 'GET', url, headers), {
    run: async () => (ran++, response),
    release: (h) => void (released = h),
  })
  return { outcome, ran, released }
}

describe('createHttpCache options', () => {
  it('are checked once, naming the option', () => {
    const cache = createCache()
    caches.push(cache)
    const bad: [Partial<HttpCacheOptions>, RegExp][] = [
      [{ cache: {} as Cache }, /`cache`/],
      [{ cache, maxResponseBytes: 1.5 }, /maxResponseBytes/],
      [{ cache, statuses: [99] }, /statuses/],
      [{ cache, invalidation: 'all' as 'precise' }, /invalidation/],
      [{ cache, entityTypes: { people: '' } }, /entityTypes\.people/],
      [{ cache, ttl: '5 minutes' as '5m' }, /ttl/],
      [{ cache, cacheAll: 'yes' as unknown as boolean }, /cacheAll/],
    ]
    for (const [options, message] of bad) {
      let error: unknown
      try {
        createHttpCache(options as HttpCacheOptions)
      } catch (e) {
        error = e
      }
      expect(isCacheError(error, 'E_INVALID_OPTION'), String(message)).toBe(true)
      expect((error as Error).message).toMatch(message)
    }
  })

  it('route options are checked when the route is declared', () => {
    const { http } = core()
    expect(() => http.route({ invalidation: 'x' as 'precise' })).toThrow(/cache\.invalidation/)
    expect(() => http.route({ entity: { type: '' } })).toThrow(/entity/)
    expect(() => http.route({ tags: [''] })).toThrow(/cache\.tags/)
    expect(() => http.route({ tags: ['@key:x'] })).toThrow(/cache\.tags/)
    expect(() => http.route({ invalidates: 'x' as unknown as string[] })).toThrow(/invalidates/)
    expect(http.route(undefined).caches).toBe(false)
    expect(http.route({}).caches).toBe(true)
    expect(http.route({ enabled: false }).caches).toBe(false)
  })
})

describe('HttpCache.serve', () => {
  it('leaves alone what it must not cache: other methods, routes that did not opt in', async () => {
    const { http } = core()
    const port = { run: () => Promise.reject(new Error('not run')), release: () => {} }
    const post = await http.serve(http.route({}), exchangeOf({}, 'POST', '/x', {}), port)
    expect(post).toEqual({ action: 'pass', headers: {} })
    const plain = await http.serve(http.route(), exchangeOf({}, 'GET', '/x', {}), port)
    expect(plain).toEqual({ action: 'pass', headers: {} })
  })

  it('stores under a version: a value someone else set under the same key is never replayed', async () => {
    const { http, cache } = core()
    const route = http.route({})
    await cache.set('GET /x', { kind: 'response', status: 200, headers: {}, body: 'forged' })
    const first = await serve(http, route, '/x', ok())
    expect(first.ran).toBe(1)
    expect(first.released?.['x-cache']).toBe('MISS')
    const second = await serve(http, route, '/x', ok())
    expect(second.outcome).toMatchObject({ action: 'replay', response: { body: '{"id":1}' } })
  })

  it("keeps a body's bytes, not the pool chunk a small Buffer is a view of", async () => {
    const { http } = core()
    const route = http.route({})
    // Not ASCII: kept as bytes (ASCII with a Content-Type is kept as text, below).
    const text = JSON.stringify({ id: 1, pad: 'é'.repeat(500) })
    const pooled = Buffer.from(text) // under 4 KB: a slice of Node's shared 8 KB pool
    expect(pooled.buffer.byteLength).toBeGreaterThan(pooled.byteLength)
    await serve(http, route, '/x', ok(pooled as unknown as string))
    const hit = await serve(http, route, '/x', ok())
    const body = (hit.outcome as { response: { body: Uint8Array } }).response.body
    expect(Buffer.from(body).toString()).toBe(text)
    expect(body.buffer.byteLength).toBe(body.byteLength)
  })

  it('keeps ASCII bytes with a Content-Type as text: the same bytes sent, the same ETag', async () => {
    const text = JSON.stringify({ id: 1, pad: 'x'.repeat(1000) })
    const bodies: [string, CapturedResponse, string | Uint8Array][] = [
      ['ASCII, typed', ok(Buffer.from(text) as unknown as string), text],
      ['ASCII, untyped', { status: 200, headers: {}, body: Buffer.from(text) }, Buffer.from(text)],
      ['UTF-8, typed', ok(Buffer.from('é') as unknown as string), Buffer.from('é')],
    ]
    for (const [name, response, kept] of bodies) {
      const { http } = core()
      const route = http.route({})
      const miss = await serve(http, route, '/x', response)
      expect(miss.released?.['x-cache'], name).toBe('MISS')
      const hit = await serve(http, route, '/x', ok())
      expect(hit.outcome, name).toMatchObject({ action: 'replay' })
      const replayed = (hit.outcome as { response: { body: string | Uint8Array } }).response
      expect(typeof replayed.body, name).toBe(typeof kept)
      expect(Buffer.from(replayed.body), name).toEqual(Buffer.from(kept))
    }
    // The ETag is a hash of the bytes, whichever form holds them.
    const etags: unknown[] = []
    for (const body of [text, Buffer.from(text)]) {
      const { http } = core()
      const route = http.route({})
      await serve(http, route, '/x', ok(body as string))
      const hit = await serve(http, route, '/x', ok())
      etags.push(
        (hit.outcome as unknown as { response: { headers: { etag: string } } }).response.headers
          .etag,
      )
    }
    expect(etags[0]).toBe(etags[1])
  })

  it('a response whose tags cannot be computed is still released, and reported', async () => {
    const { http, errors } = core()
    const route = http.route({ tags: () => ['@reserved'] })
    const { outcome, released } = await serve(http, route, '/x', ok())
    expect(outcome).toEqual({ action: 'done' })
    expect(released).toEqual({ 'x-cache': 'SKIP' })
    expect(errors.map((e) => e.operation)).toEqual(['http:store'])
  })

  it('skips paths deeper than 32 segments', async () => {
    const { http } = core()
    const deep = `/${Array.from({ length: 33 }, (_, i) => `s${i}`).join('/')}`
    expect((await serve(http, http.route({}), deep, ok())).released).toEqual({ 'x-cache': 'SKIP' })
  })

  it('learns at most MAX_LEARNED_VARY Vary names per route', async () => {
    const { http } = core()
    const route = http.route({})
    const many = Array.from({ length: MAX_LEARNED_VARY + 1 }, (_, i) => `x-h${i}`).join(', ')
    for (let i = 0; i < 3; i++) {
      const { released } = await serve(http, route, '/v', ok('{}', { vary: many }))
      expect(released).toEqual({ 'x-cache': 'SKIP' })
    }
    expect(route.learnedVary).toEqual([])
    await serve(http, route, '/v', ok('{}', { vary: 'x-a' }))
    expect(route.learnedVary).toEqual(['x-a'])
  })

  it('HEAD and GET have their own entries', async () => {
    const { http } = core()
    const route = http.route({})
    await serve(http, route, '/h', ok())
    const head = await http.serve(route, exchangeOf({}, 'HEAD', '/h', {}), {
      run: async () => ok(),
      release: () => {},
    })
    expect(head).toEqual({ action: 'done' })
  })
})

describe('HttpCache.hit', () => {
  const get = (url: string, headers: Record<string, string> = {}, method = 'GET') =>
    exchangeOf({}, method, url, headers)

  it('answers a fresh hit of memory synchronously, as serve() replays it', async () => {
    const { http, cache } = core()
    const route = http.route({})
    expect(http.hit(route, get('/x'))).toBeUndefined()
    await serve(http, route, '/x', ok())
    const hits = cache.stats().hits
    const hit = http.hit(route, get('/x?'))
    expect(hit).toMatchObject({ status: 200, body: '{"id":1}', headers: { 'x-cache': 'HIT' } })
    expect(cache.stats().hits).toBe(hits + 1)
    const served = await serve(http, route, '/x', ok())
    expect(served.outcome).toEqual({ action: 'replay', response: hit })
    const etag = hit?.headers['etag'] as string
    expect(http.hit(route, get('/x', { 'if-none-match': etag }))?.status).toBe(304)
  })

  it('leaves to serve() what is not a plain fresh hit', async () => {
    const { http, cache } = core()
    const route = http.route({})
    await serve(http, route, '/x', ok())
    expect(http.hit(route, get('/x', { 'cache-control': 'no-cache' }))).toBeUndefined()
    expect(http.hit(route, get('/x', { pragma: 'no-cache' }))).toBeUndefined()
    expect(http.hit(route, get('/x', { authorization: 'Bearer a' }))).toBeUndefined()
    expect(http.hit(route, get('/x', {}, 'POST'))).toBeUndefined()
    expect(http.hit(http.route({ enabled: false }), get('/x'))).toBeUndefined()
    expect(http.hit(route, get('/x'))).toBeDefined()
    await cache.invalidate('http:/x')
    expect(http.hit(route, get('/x'))).toBeUndefined()
  })

  it('answers with directives when the app does not honor them', async () => {
    const { http } = core({ honorNoCache: false })
    const route = http.route({})
    await serve(http, route, '/x', ok())
    expect(http.hit(route, get('/x', { 'cache-control': 'no-cache' }))?.status).toBe(200)
  })

  it('never replays a value of another version under the key', async () => {
    const { http, cache } = core()
    await cache.set('GET /x', { kind: 'response', status: 200, headers: {}, body: 'forged' })
    expect(http.hit(http.route({}), get('/x'))).toBeUndefined()
  })
})

describe('HttpCache.afterWrite', () => {
  const write = (http: HttpCache, route: HttpRoute, method: string, url: string, status = 200) =>
    http.afterWrite(route, exchangeOf({}, method, url, {}), { ...ok(), status })

  it('invalidates nothing for failed, non-2xx or non-write requests', async () => {
    const { http, cache } = core()
    const route = http.route()
    await write(http, route, 'PATCH', '/users/1', 404)
    await write(http, route, 'GET', '/users/1')
    await http.afterWrite(route, exchangeOf({}, 'PATCH', '/users/1', {}), {
      ...ok(),
      failed: true,
    })
    expect(cache.stats().invalidations).toBe(0)
    await write(http, route, 'PATCH', '/users/1', 204)
    expect(cache.stats().invalidations).toBe(1)
  })

  it('a throwing invalidates function is reported, never thrown at the request', async () => {
    const { http, cache, errors } = core()
    const route = http.route({
      invalidates: () => {
        throw new Error('bug')
      },
    })
    await expect(write(http, route, 'POST', '/users')).resolves.toBeUndefined()
    expect(errors.map((e) => e.operation)).toEqual(['http:invalidate'])
    expect(cache.stats().invalidations).toBe(0)
  })
})

describe('Capture', () => {
  it('hands one response over, and lets it go when released', async () => {
    const capture = new Capture()
    expect(capture.waiting).toBe(true)
    const offered = capture.offer(ok())
    expect(capture.waiting).toBe(false)
    await expect(capture.response).resolves.toEqual(ok())
    capture.fail(new Error('too late'))
    capture.release({ 'x-cache': 'MISS' })
    await expect(offered).resolves.toEqual({ 'x-cache': 'MISS' })
  })

  it('rejects the response with the handler error', async () => {
    const capture = new Capture()
    capture.fail(new Error('handler'))
    await expect(capture.response).rejects.toThrow('handler')
    expect(capture.waiting).toBe(false)
  })
})
