import { describe, expect, it } from 'vitest'

import { flows, RequestFlow } from '../../../src/http/adapter/index.js'
import { createHttpCache, exchangeOf } from '../../../src/http/index.js'
import { createCache } from '../../../src/index.js'

const setup = (cacheAll = false) => {
  const cache = createCache()
  return { cache, http: createHttpCache<string>({ cache, cacheAll }) }
}

const exchange =
  (method: string, url: string, headers: Record<string, string> = {}) =>
  () =>
    exchangeOf('request', method, url, { host: 'a.test', ...headers })

const ok = (body: string) => ({ status: 200, headers: { 'content-type': 'text/plain' }, body })

describe('the request flow', () => {
  it('needs a flow for a GET/HEAD of a caching route, or a write of a route that invalidates', () => {
    const { http } = setup()
    const cached = http.route({}, '/users/:id')
    const plain = http.route({ enabled: false, invalidation: false }, '/users/:id')
    expect(['GET', 'HEAD', 'POST', 'OPTIONS'].map((m) => flows(cached, m))).toEqual([
      true,
      true,
      true,
      false,
    ])
    expect(['GET', 'PATCH'].map((m) => flows(plain, m))).toEqual([false, false])
  })

  it('a miss runs the handler held until stored; the next request replays it', async () => {
    const { http, cache } = setup()
    const route = http.route({}, '/users/:id')
    const first = new RequestFlow(http, exchange('GET', '/users/7'), route)
    let released: unknown
    const outcome = await first.lookup(route, () => {
      expect(first.waiting).toBe(true)
      void Promise.resolve(first.sending(ok('seven'))).then((h) => (released = h))
    })
    expect(outcome).toEqual({ action: 'done' })
    await Promise.resolve()
    expect(released).toMatchObject({ 'x-cache': 'MISS' })
    const second = new RequestFlow(http, exchange('GET', '/users/7'), route)
    const hit = await second.lookup(route, () => expect.unreachable())
    expect(hit).toMatchObject({ action: 'replay', response: { status: 200, body: 'seven' } })
    await cache.close()
  })

  it('a request that is not cacheable passes, and its response gets X-Cache: SKIP at once', async () => {
    const { http, cache } = setup()
    const route = http.route({}, '/users/:id')
    const flow = new RequestFlow(http, exchange('GET', '/users/7', { authorization: 'x' }), route)
    expect(await flow.lookup(route, () => expect.unreachable())).toEqual({
      action: 'pass',
      headers: { 'x-cache': 'SKIP' },
    })
    expect(flow.sending(ok('mine'))).toEqual({ 'x-cache': 'SKIP' })
    await cache.close()
  })

  it("a write's response is held until what it changed is invalidated", async () => {
    const { http, cache } = setup()
    await cache.set('entry', 1, { tags: ['user:7'] })
    // No declared route: the route of the pattern the framework matched.
    const flow = new RequestFlow(http, exchange('PATCH', '/users/7'), undefined, () => '/users/:id')
    const sent = flow.sending({ ...ok('{"id":7}'), headers: {} })
    expect(sent).toBeInstanceOf(Promise)
    expect(await sent).toEqual({})
    expect(await cache.get('entry')).toBeUndefined()
    await cache.close()
  })

  it("a route's own options take over from a lookup begun without them: its hold is undone", async () => {
    const { http, cache } = setup(true) // cacheAll: the app-wide lookup of Express
    const flow = new RequestFlow(http, exchange('GET', '/me'), undefined, () => '/me')
    const undone: string[] = []
    const outcome = await flow.lookup(http.route(), (undoable) => {
      undoable(() => undone.push('hold'))
      expect(flow.declare({ varyBy: ['x-user'] }, '/me')).toEqual({})
    })
    expect([outcome, undone]).toEqual([{ action: 'done' }, ['hold']])
    expect(flow.route.varyBy).toEqual(['x-user'])
    expect(await cache.keys()).toMatchObject({ keys: [] })
    await cache.close()
  })
})
