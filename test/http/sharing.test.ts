import Fastify from 'fastify'
import { afterEach, describe, expect, inject, it } from 'vitest'

import { cachegraph } from '../../src/adapters/fastify.js'
import { ANALYTICS_COOKIES, createHttpCache, type HttpCacheOptions } from '../../src/http/index.js'
import { cookieFilter, personalCookies } from '../../src/http/cookies.js'
import { freshnessJudge } from '../../src/http/freshness.js'
import { canonicalHost, forwardedHosts, hostFilter } from '../../src/http/hosts.js'
import { RefreshLimiter } from '../../src/http/refresh.js'
import { createCache, isCacheError } from '../../src/index.js'
import { redisStore } from '../../src/redis/store.js'
import { fakeClock, faultyStore } from '../../src/testing/index.js'
import { uniquePrefix } from '../helpers/tiers.js'

const open: { close(): Promise<unknown> }[] = []
afterEach(async () => {
  for (const one of open.splice(0).reverse()) await one.close()
})

describe('request cookies', () => {
  it('count unless ignoredCookies names them: exact names and prefixes, case-sensitive', () => {
    const ignored = cookieFilter(['_ga', '_ga_*', 'OptanonConsent'])
    expect(personalCookies(undefined, ignored)).toBe(false)
    expect(personalCookies('', ignored)).toBe(false)
    expect(personalCookies(' ; ', ignored)).toBe(false)
    expect(personalCookies('_ga=1; _ga_ABC=2;OptanonConsent=x=y', ignored)).toBe(false)
    expect(personalCookies('_ga=1; sid=2', ignored)).toBe(true)
    expect(personalCookies('_GA=1', ignored)).toBe(true)
    expect(personalCookies('_gax=1', ignored)).toBe(true)
    // A nameless pair still carries a value the app may read.
    expect(personalCookies('=secret', ignored)).toBe(true)
    expect(personalCookies('secret', ignored)).toBe(true)
    expect(personalCookies('sid=1', cookieFilter(undefined))).toBe(true)
  })

  it('ANALYTICS_COOKIES covers the common analytics and consent cookies, and only those', () => {
    const ignored = cookieFilter(ANALYTICS_COOKIES)
    const header = '_ga=1; _ga_X1=2; _gid=3; _fbp=4; _hjSessionUser_9=5; euconsent-v2=6'
    expect(personalCookies(header, ignored)).toBe(false)
    expect(personalCookies('session=1', ignored)).toBe(true)
    expect(personalCookies('connect.sid=1', ignored)).toBe(true)
    expect(Object.isFrozen(ANALYTICS_COOKIES)).toBe(true)
  })
})

describe('hosts', () => {
  it('are canonical: lower case, no trailing dot, port kept; malformed ones are refused', () => {
    expect(canonicalHost('Shop.Example.')).toBe('shop.example')
    expect(canonicalHost('shop.example:8443')).toBe('shop.example:8443')
    expect(canonicalHost('[::1]:3000')).toBe('[::1]:3000')
    expect(canonicalHost('127.0.0.1')).toBe('127.0.0.1')
    for (const bad of ['', 'a b', 'a/b', 'evil.example#x', 'a@b', 'a:b:c', '.', 'a..b', 'ünï']) {
      expect(canonicalHost(bad), bad).toBeUndefined()
    }
  })

  it('the allowlist: names (any port), host:port, *.domain (subdomains only)', () => {
    const allowed = hostFilter(['shop.example', 'admin.example:8443', '*.tenants.example'])
    expect(allowed('shop.example')).toBe(true)
    expect(allowed('shop.example:3000')).toBe(true)
    expect(allowed('admin.example:8443')).toBe(true)
    expect(allowed('admin.example')).toBe(false)
    expect(allowed('a.tenants.example')).toBe(true)
    expect(allowed('a.b.tenants.example:80')).toBe(true)
    expect(allowed('tenants.example')).toBe(false)
    expect(allowed('eviltenants.example')).toBe(false)
    expect(allowed(undefined)).toBe(false)
    expect(hostFilter(undefined)(undefined)).toBe(true)
  })

  it('forwarding headers name hosts: every X-Forwarded-Host entry, every Forwarded host=', () => {
    const headers: Record<string, string> = {
      'x-forwarded-host': 'a.example, b.example',
      forwarded: 'for=192.0.2.1;host="c.example:8080", for=x;Host=d.example;proto=https',
    }
    expect(forwardedHosts((name) => headers[name])).toEqual([
      'a.example',
      'b.example',
      'c.example:8080',
      'd.example',
    ])
    expect(forwardedHosts(() => undefined)).toEqual([])
  })
})

describe("a response's own freshness (RFC 9111)", () => {
  const clock = fakeClock(Date.UTC(2026, 0, 1))
  const judge = freshnessJudge(clock)
  const cc = (value: string) => judge(200, { 'cache-control': value })

  it('refuses private, no-store and no-cache in any case, and statuses it does not understand', () => {
    expect(cc('max-age=60, Private')).toBe('refused')
    expect(cc('NO-STORE')).toBe('refused')
    expect(cc('no-cache="set-cookie"')).toBe('refused')
    expect(judge(500, { 'cache-control': 'public, max-age=60' })).toBe('refused')
    expect(judge(206, {})).toBe('refused')
    expect(judge(302, {})).toBe('refused')
  })

  it('explicit lifetimes: s-maxage over max-age over Expires, minus the current age', () => {
    expect(cc('max-age=60')).toEqual({ ttlMs: 60_000 })
    expect(cc('max-age=60, S-MAXAGE=5')).toEqual({ ttlMs: 5_000 })
    expect(judge(200, { 'cache-control': 'max-age=60', age: '45' })).toEqual({ ttlMs: 15_000 })
    const in30s = new Date(clock.now() + 30_000).toUTCString()
    expect(judge(200, { expires: in30s })).toEqual({ ttlMs: 30_000 })
    expect(judge(200, { expires: in30s, 'cache-control': 'max-age=10' })).toEqual({
      ttlMs: 10_000,
    })
    // Expires counts from the response's Date when it has one.
    const date = new Date(clock.now() - 10_000).toUTCString()
    expect(judge(200, { expires: in30s, date })).toEqual({ ttlMs: 40_000 })
  })

  it('a lifetime already used up is expired: max-age=0, s-maxage=0, Expires past or malformed, Age', () => {
    expect(cc('max-age=0')).toBe('expired')
    expect(cc('public, s-maxage=0, max-age=60')).toBe('expired')
    expect(judge(200, { expires: 'Thu, 01 Jan 1970 00:00:00 GMT' })).toBe('expired')
    expect(judge(200, { expires: '0' })).toBe('expired')
    expect(judge(200, { 'cache-control': 'max-age=60', age: '60' })).toBe('expired')
  })

  it('no explicit lifetime: the route ttl applies (heuristic freshness, §4.2.2)', () => {
    expect(judge(200, {})).toEqual({ ttlMs: undefined })
    expect(cc('public')).toEqual({ ttlMs: undefined })
    expect(judge(404, { 'last-modified': 'Thu, 01 Jan 2015 00:00:00 GMT' })).toEqual({
      ttlMs: undefined,
    })
  })
})

describe('the refresh limiter', () => {
  it('lets a key refresh once per interval, settles on when its entry was stored', () => {
    const limiter = new RefreshLimiter(1_000)
    expect(limiter.claim('k', 10_000)).toBe(true)
    expect(limiter.claim('k', 10_999)).toBe(false)
    expect(limiter.claim('other', 10_999)).toBe(true)
    expect(limiter.claim('k', 11_000)).toBe(true)
    limiter.settle('k', 10_500)
    expect(limiter.claim('k', 11_499)).toBe(false)
    expect(limiter.claim('k', 11_500)).toBe(true)
  })

  it('stays bounded under a flood of distinct keys', () => {
    const limiter = new RefreshLimiter(60_000)
    let claimed = 0
    for (let i = 0; i < 25_000; i++) if (limiter.claim(`k${i}`, 1_000)) claimed++
    expect(claimed).toBe(25_000)
    // The oldest claims went first: the newest are still remembered.
    expect(limiter.claim('k24999', 1_000)).toBe(false)
    expect(limiter.claim('k0', 1_000)).toBe(true)
  })
})

describe('options', () => {
  it('ignoredCookies, hosts and minRefresh are checked when the cache is created', () => {
    const cache = createCache()
    open.push(cache)
    const bad: [Partial<HttpCacheOptions>, RegExp][] = [
      [{ ignoredCookies: 'sid' as unknown as string[] }, /ignoredCookies/],
      [{ ignoredCookies: ['a b'] }, /ignoredCookies/],
      [{ ignoredCookies: ['*'] }, /ignoredCookies/],
      [{ hosts: [] }, /hosts/],
      [{ hosts: ['https://shop.example'] }, /hosts/],
      [{ hosts: ['*.shop.example:80'] }, /hosts/],
      [{ minRefresh: -1 }, /minRefresh/],
    ]
    for (const [options, message] of bad) {
      let error: unknown
      try {
        createHttpCache({ cache, ...options })
      } catch (e) {
        error = e
      }
      expect(isCacheError(error, 'E_INVALID_OPTION'), JSON.stringify(options)).toBe(true)
      expect((error as Error).message).toMatch(message)
    }
  })
})

describe("a client's no-cache against a shared store", () => {
  it('500 no-cache requests make at most one refresh per minRefresh: one handler run, not 500 store writes', async () => {
    const clock = fakeClock()
    const store = faultyStore(redisStore({ url: inject('redisUrl'), prefix: uniquePrefix() }))
    // Store calls that time out on a busy machine would read as misses: not what is tested here.
    const cache = createCache({ store, clock, storeTimeout: '10s' })
    open.push(cache)
    const app = Fastify()
    open.push(app)
    await app.register(cachegraph, { cache, clock })
    let runs = 0
    app.get('/hot', { config: { cache: {} } }, async () => ({ run: ++runs }))
    const writes = () => {
      const counts = store.faults.counts()
      return counts.write.calls + counts.invalidate.calls
    }
    const flood = async (): Promise<string[]> => {
      const seen: string[] = []
      for (let batch = 0; batch < 10; batch++) {
        const replies = await Promise.all(
          Array.from({ length: 50 }, () =>
            app.inject({ url: '/hot', headers: { 'cache-control': 'no-cache' } }),
          ),
        )
        for (const reply of replies) seen.push(String(reply.headers['x-cache']))
      }
      return seen
    }

    expect((await app.inject('/hot')).headers['x-cache']).toBe('MISS')
    const stored = writes()
    // Stored just now: that is this key's refresh for the next second.
    expect(new Set(await flood())).toEqual(new Set(['HIT']))
    expect([runs, writes() - stored]).toEqual([1, 0])

    clock.advance(1_000)
    const seen = await flood()
    expect(seen.filter((s) => s === 'BYPASS')).toHaveLength(1)
    expect(seen.filter((s) => s !== 'BYPASS' && s !== 'HIT')).toEqual([])
    expect(runs).toBe(2)
    // The refresh: the entry dropped and stored again — a handful of store calls, not 500.
    expect(writes() - stored).toBeLessThanOrEqual(3)
  })
})
