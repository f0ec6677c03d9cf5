import { describe, expect, it } from 'vitest'

import {
  canonicalPath,
  canonicalQuery,
  createHttpCache,
  exchangeOf,
  MAX_KEY_LENGTH,
  splitUrl,
  strictEncode,
} from '../../src/http/index.js'
import type { RouteCacheOptions } from '../../src/http/index.js'
import { createCache } from '../../src/index.js'

const http = createHttpCache({ cache: createCache() })
const keyOf = (
  url: string,
  options: { headers?: Record<string, string>; route?: RouteCacheOptions; method?: string } = {},
) =>
  http.keyOf(
    http.route(options.route ?? {}),
    exchangeOf({}, options.method ?? 'GET', url, options.headers ?? {}),
  )

describe('canonical paths and queries', () => {
  it('strictly encodes: only unreserved characters and %XX remain', () => {
    expect(strictEncode("a b!'()*&=?/#~")).toBe('a%20b%21%27%28%29%2A%26%3D%3F%2F%23~')
  })

  it('keeps paths of unreserved characters as they are', () => {
    expect(canonicalPath('/spaces/1/items/9')).toBe('/spaces/1/items/9')
    expect(canonicalPath('/a/')).toBe('/a/')
  })

  it('decodes and re-encodes each segment: equivalent spellings agree, %2F stays in its segment', () => {
    expect(canonicalPath('/a%41')).toBe('/aA')
    expect(canonicalPath('/x%2fy')).toBe('/x%2Fy')
    expect(canonicalPath('/x%2Fy')).not.toBe(canonicalPath('/x/y'))
    expect(canonicalPath('/page=1')).toBe('/page%3D1')
    expect(canonicalPath('/a b')).toBe('/a%20b')
    expect(canonicalPath('/a+b')).toBe('/a%2Bb')
  })

  it('refuses what cannot be keyed safely', () => {
    expect(canonicalPath('/bad%zz')).toBeUndefined()
    expect(canonicalPath('http://host/x')).toBeUndefined()
    expect(canonicalQuery('q=%E0%A4%A')).toBeUndefined()
  })

  it('sorts parameters by name, keeping repeated ones in order', () => {
    expect(canonicalQuery('b=2&a=1')).toBe('a=1&b=2')
    expect(canonicalQuery('t=2&a=0&t=1')).toBe('a=0&t=2&t=1')
    expect(canonicalQuery('a&&b=')).toBe('a=&b=')
    expect(canonicalQuery('q=a+b')).toBe(canonicalQuery('q=a%20b'))
    expect(canonicalQuery('q=a=b')).toBe('q=a%3Db')
    expect(canonicalQuery('q=a%26b%3Dc')).toBe('q=a%26b%3Dc')
  })

  it('splits a request target', () => {
    expect(splitUrl('/a?b=1&c')).toEqual({ path: '/a', query: 'b=1&c' })
    expect(splitUrl('/a')).toEqual({ path: '/a', query: '' })
    expect(splitUrl('/a?b#frag')).toEqual({ path: '/a', query: 'b' })
  })
})

describe('keys', () => {
  it('have the documented format', () => {
    const route: RouteCacheOptions = { varyBy: ['Accept-Language', () => 42], keyPrefix: 'v2' }
    expect(
      keyOf('/spaces/1/items?tag=a&page=2&tag=b', {
        route,
        headers: { 'accept-language': 'en-GB, fr' },
      }),
    ).toBe('v2:GET /spaces/1/items?page=2&tag=a&tag=b #h:accept-language=en-GB%2C%20fr #f:1=42')
    expect(keyOf('/x', { method: 'HEAD' })).toBe('HEAD /x')
  })

  it('never collide', () => {
    const urls = [
      '/items/page=1',
      '/items?page=1',
      '/items?page%3D1',
      '/items?page=1&page=2',
      '/items?page=2&page=1',
      '/items?page=1%26page%3D2',
      '/items?page=1,2',
      '/items/?page=1',
      '/items%3Fpage=1',
      '/items?page=1%20#h:x=1',
      '/items?page=1%20%23h:x%3D1',
      '/a/b',
      '/a%2Fb',
    ]
    const keys = urls.map((url) => keyOf(url))
    expect(keys.every((key) => key !== undefined && !key.includes('#'))).toBe(true)
    expect(new Set(keys).size).toBe(urls.length)
  })

  it('agree for spellings of the same request', () => {
    const same = [
      ['/items/page=1', '/items/page%3D1'],
      ['/items%3Fpage=1', '/items%3Fpage%3D1'],
      ['/a%2Fb?', '/a%2fb'],
      ['/q?a=1&b=2', '/q?b=2&a=1'],
      ['/q?s=a+b', '/q?s=a%20b'],
    ]
    for (const [a, b] of same) expect(keyOf(a as string), `${a} ${b}`).toBe(keyOf(b as string))
  })

  it('cannot be forged through a varyBy value', () => {
    const route: RouteCacheOptions = { varyBy: ['x-a', 'x-b'] }
    const one = keyOf('/v', { route, headers: { 'x-a': '1 #h:x-b=2', 'x-b': '3' } })
    const two = keyOf('/v', { route, headers: { 'x-a': '1', 'x-b': '2 #h:x-b=3' } })
    expect(one).not.toBe(two)
    expect(one?.split(' ')).toHaveLength(4)
  })

  it('are not made for requests missing a varyBy value, or with credentials on a private route', () => {
    expect(keyOf('/v', { route: { varyBy: ['x-a'] } })).toBeUndefined()
    expect(keyOf('/v', { route: { varyBy: [() => ''] } })).toBeUndefined()
    expect(keyOf('/v', { headers: { authorization: 'Bearer x' } })).toBeUndefined()
    expect(keyOf('/v', { headers: { authorization: 'Bearer x' }, route: { public: true } })).toBe(
      'GET /v',
    )
  })

  it('reject varyBy functions that return objects (they would all look alike)', () => {
    expect(() => keyOf('/v', { route: { varyBy: [() => ({ id: 1 })] } })).toThrow(/varyBy\[0\]/)
  })

  it('are hashed past MAX_KEY_LENGTH, keeping a readable head', () => {
    const long = `/long?q=${'x'.repeat(MAX_KEY_LENGTH)}`
    const key = keyOf(long) as string
    expect(key.length).toBeLessThan(300)
    expect(key.startsWith('GET /long?q=xxx')).toBe(true)
    expect(key).toMatch(/ !sha256=[\w-]{43}$/)
    expect(keyOf(`${long}y`)).not.toBe(key)
  })
})
