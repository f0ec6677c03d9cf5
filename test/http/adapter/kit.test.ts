import { IncomingMessage } from 'node:http'
import { Socket } from 'node:net'
import { Readable } from 'node:stream'

import { describe, expect, it } from 'vitest'

import {
  adminAnswer,
  BodyKinds,
  capturedFetch,
  checkRoute,
  fetchExchange,
  fetchRequestOf,
  nodeAnswer,
  replayFetch,
  routeOf,
  underPrefix,
} from '../../../src/http/adapter/index.js'
import { createAdminHandler, createHttpCache } from '../../../src/http/index.js'
import { createCache } from '../../../src/index.js'

function incoming(method: string, headers: Record<string, string | string[]>): IncomingMessage {
  const message = new IncomingMessage(new Socket())
  message.method = method
  message.headers = headers
  return message
}

describe('the adapters’ kit', () => {
  it('compiles a route once per cache, options and pattern', () => {
    const http = createHttpCache({ cache: createCache() })
    const options = { ttl: '1m' as const }
    const first = routeOf(http, options, '/users/:id')
    expect(routeOf(http, options, '/users/:id')).toBe(first)
    expect(routeOf(http, { ttl: '1m' }, '/users/:id')).not.toBe(first)
    expect(routeOf(http, options, '/teams/:id')).not.toBe(first)
    expect(routeOf(http, undefined, undefined)).toBe(routeOf(http, undefined, undefined))
    const other = createHttpCache({ cache: createCache() })
    expect(routeOf(other, options, '/users/:id')).not.toBe(first)
  })

  it('refuses invalid route options where they are declared', () => {
    expect(() => checkRoute({ ttl: 'soon' as '1m' })).toThrow(/ttl/)
    expect(() => checkRoute({ varyBy: 'accept' as unknown as [] })).toThrow(/varyBy/)
    expect(() => checkRoute({ ttl: '1m', varyBy: ['accept-language'] })).not.toThrow()
  })

  it('turns a Node request into a fetch Request: headers joined, parsed bodies as JSON', async () => {
    const raw = incoming('POST', {
      host: 'a.test',
      'x-list': ['1', '2'],
      'content-type': 'application/json',
    })
    const request = fetchRequestOf(raw, '/api/cache/invalidate?x=1', { tags: ['t'] }, false)
    expect(request.url).toBe('http://a.test/api/cache/invalidate?x=1')
    expect(request.headers.get('x-list')).toBe('1, 2')
    expect(await request.json()).toEqual({ tags: ['t'] })
    const unread = fetchRequestOf(incoming('POST', {}), '/x', undefined, false)
    expect(unread.body).toBeNull()
    expect(fetchRequestOf(incoming('GET', {}), '/x', { ignored: true }, true).body).toBeNull()
  })

  it('turns a fetch Response into bytes, or an event stream whose HTTP/1 connection closes', async () => {
    const bytes = await nodeAnswer(new Response('{"a":1}', { status: 201 }), 1)
    expect(bytes.status).toBe(201)
    expect(Buffer.isBuffer(bytes.body) && bytes.body.toString()).toBe('{"a":1}')
    expect(bytes.headers.find(([name]) => name === 'connection')).toBeUndefined()
    const events = () =>
      new Response('data: 1\n\n', { headers: { 'content-type': 'text/event-stream' } })
    const stream = await nodeAnswer(events(), 1)
    expect(stream.body).toBeInstanceOf(Readable)
    expect(stream.headers).toContainEqual(['connection', 'close'])
    expect((await nodeAnswer(events(), 2)).headers).not.toContainEqual(['connection', 'close'])
  })

  it('reads a fetch request’s host from Host, or from the proxy only when trusted', () => {
    const request = new Request('http://inner/a/b?y=2&x=1', {
      headers: { host: 'shop.test', 'x-forwarded-host': 'evil.test, proxy.test' },
    })
    expect(fetchExchange('c', request, false)).toMatchObject({ host: 'shop.test', path: '/a/b' })
    expect(fetchExchange('c', request, true).host).toBe('proxy.test')
    expect(underPrefix('/api/cache', '/api/cache')).toBe(true)
    expect(underPrefix('/api/cache/keys', '/api/cache')).toBe(true)
    expect(underPrefix('/api/cachet', '/api/cache')).toBe(false)
  })

  it('answers admin calls for Node frameworks, and nothing outside the prefix', async () => {
    const cache = createCache()
    const admin = createAdminHandler<string>({ cache, insecure: true })
    const stats = await adminAnswer(
      admin,
      'req',
      incoming('GET', {}),
      '/api/cache/stats',
      undefined,
      false,
    )
    expect(stats?.status).toBe(200)
    expect(JSON.parse((stats?.body as Buffer).toString())).toMatchObject({ hits: 0 })
    expect(
      await adminAnswer(admin, 'req', incoming('GET', {}), '/users', undefined, false),
    ).toBeUndefined()
    await cache.close()
  })

  it('replays a cached response as a fetch Response, and captures one by what its body was made of', async () => {
    const replayed = replayFetch({
      status: 203,
      headers: { 'set-cookie': ['a=1', 'b=2'], 'x-cache': 'HIT' },
      body: 'hello',
    })
    expect([replayed.status, replayed.headers.getSetCookie(), await replayed.text()]).toEqual([
      203,
      ['a=1', 'b=2'],
      'hello',
    ])
    const kinds = new BodyKinds()
    const text = kinds.note(new Response('hi'), 'hi')
    const bytes = kinds.note(new Response(new Uint8Array([1])), new Uint8Array([1]))
    const stream = kinds.note(new Response('s'), new ReadableStream())
    expect([kinds.of(text), kinds.of(bytes), kinds.of(stream)]).toEqual([
      'text',
      'bytes',
      undefined,
    ])
    expect((await capturedFetch(text, kinds.of(text), false)).body).toBe('hi')
    expect((await capturedFetch(stream, kinds.of(stream), false)).body).toBeUndefined()
  })
})
