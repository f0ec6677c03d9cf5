import { createHash } from 'node:crypto'

import { afterEach, describe, expect, it } from 'vitest'

import {
  createHttpCache,
  exchangeOf,
  type CapturedResponse,
  type HttpCache,
  type HttpRoute,
  type ReplayResponse,
  type ServeOutcome,
} from '../../src/http/index.js'
import { type Cache, createCache } from '../../src/index.js'
import { internHeaders } from '../../src/http/intern.js'
import { fakeClock } from '../../src/testing/index.js'

/** How a cached response is kept and replayed: prepared once, shared by hits, held compactly. */
const caches: Cache[] = []
afterEach(async () => {
  for (const cache of caches.splice(0)) await cache.close()
})

function setup() {
  const cache = createCache()
  caches.push(cache)
  const clock = fakeClock(1_000_000)
  const http = createHttpCache({ cache, clock })
  return { cache, clock, http, route: http.route({}, '/items/:id') }
}

const json = (body: string, headers: CapturedResponse['headers'] = {}): CapturedResponse => ({
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
): Promise<{ outcome: ServeOutcome; released: Readonly<Record<string, string>> | undefined }> {
  let released: Readonly<Record<string, string>> | undefined
  const outcome = await http.serve(route, exchangeOf({}, 'GET', url, headers), {
    run: () => Promise.resolve(response),
    release: (h) => void (released = h),
  })
  return { outcome, released }
}

const replayed = (outcome: ServeOutcome): ReplayResponse => {
  if (outcome.action !== 'replay') throw new Error(`not a replay: ${outcome.action}`)
  return outcome.response
}

const strong = (body: string) =>
  `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`

describe('stored responses', () => {
  it('keep no ETag of their own making, yet every answer carries the hash of the body', async () => {
    const { cache, http, route } = setup()
    const body = '{"id":1}'
    const miss = await serve(http, route, '/items/1', json(body))
    expect(miss.released?.etag).toBe(strong(body))
    const [key] = (await cache.keys()).keys.map((k) => k.key)
    const stored = await cache.get<{ etag?: string }>(key as string)
    expect(stored).not.toHaveProperty('etag')
    const hit = replayed((await serve(http, route, '/items/1', json('other'))).outcome)
    expect(hit.headers.etag).toBe(strong(body))
    const conditional = await serve(http, route, '/items/1', json('other'), {
      'if-none-match': strong(body),
    })
    expect(replayed(conditional.outcome)).toMatchObject({ status: 304, body: undefined })
  })

  it("keep the app's own ETag", async () => {
    const { http, route } = setup()
    await serve(http, route, '/items/1', json('{"id":1}', { etag: '"v7"' }))
    const hit = replayed((await serve(http, route, '/items/1', json('other'))).outcome)
    expect(hit.headers.etag).toBe('"v7"')
  })

  it('are replayed from one prepared answer within a second of Age, and a new one after', async () => {
    const { clock, http, route } = setup()
    await serve(http, route, '/items/1', json('{"id":1}'))
    const first = replayed((await serve(http, route, '/items/1', json('x'))).outcome)
    const second = replayed((await serve(http, route, '/items/1', json('x'))).outcome)
    expect(second).toBe(first)
    expect(first.headers).toMatchObject({ 'x-cache': 'HIT', age: '0' })
    clock.advance(2_500)
    const later = replayed((await serve(http, route, '/items/1', json('x'))).outcome)
    expect(later).not.toBe(first)
    expect(later.headers).toMatchObject({ 'x-cache': 'HIT', age: '2', etag: first.headers.etag })
    expect(first.headers.age).toBe('0')
  })

  it('share one frozen copy of a header set between responses', () => {
    const a = internHeaders({ 'content-type': 'application/json', vary: 'accept' })
    const b = internHeaders({ 'content-type': 'application/json', vary: 'accept' })
    expect(b).toBe(a)
    expect(Object.isFrozen(a)).toBe(true)
    // A list and the same values joined are different header sets.
    const list = internHeaders({ link: ['<a>', '<b>'] })
    expect(internHeaders({ link: '<a>, <b>' })).not.toBe(list)
    expect(internHeaders({ link: ['<a>', '<b>'] })).toBe(list)
  })
})
