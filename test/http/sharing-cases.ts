import { expect } from 'vitest'

import { type Case, get, type TableRequest, type TableResponse } from './harness.js'

/**
 * What the cache must never share between users, tenants and hosts, and what a client cannot
 * force: the rows of docs/http.md's "What is never shared", as cases every adapter runs (they
 * join the table of `cases.ts`).
 */

let version = 0
const fresh = () => ++version

/** A page as a careless app builds it: for the caller its cookie names, with absolute links. */
const page = (r: TableRequest): TableResponse => ({
  json: {
    for: /session=(\w+)/.exec(String(r.headers['cookie'] ?? ''))?.[1] ?? 'anyone',
    // Links from the forwarded host when there is one: what a cache must not let a forger store.
    link: `https://${String(r.headers['x-forwarded-host'] ?? r.headers['host'])}/next`,
    v: fresh(),
  },
})

const at = (host: string, headers: Record<string, string> = {}) =>
  get('/page', { host, ...headers })

export const sharingCases: Case[] = [
  // ---- Credentials: Cookie and Authorization ----------------------------------------------
  {
    name: 'a request with a Cookie is SKIP on a route without varyBy or public: never served another’s page, never stored',
    routes: () => [
      { method: 'GET', path: '/page', cache: {}, handle: page },
      { method: 'GET', path: '/public', cache: { public: true }, handle: page },
      {
        method: 'GET',
        path: '/greet',
        cache: { varyBy: ['accept-language'] },
        handle: (r) => ({ json: { lang: r.headers['accept-language'], v: fresh() } }),
      },
    ],
    steps: [
      { req: get('/page', { cookie: 'session=alice' }), cache: 'SKIP', json: expectFor('alice') },
      { req: '/page', cache: 'MISS', json: expectFor('anyone') },
      { req: get('/page', { cookie: 'session=bob' }), cache: 'SKIP', json: expectFor('bob') },
      { req: '/page', cache: 'HIT', json: expectFor('anyone') },
      {
        req: get('/page', { cookie: 'theme=dark; session=alice' }),
        cache: 'SKIP',
        json: expectFor('alice'),
        calls: { 'GET /page': 4 },
      },
      // The route says its response is the same for everyone, or names what it varies by.
      { req: '/public', cache: 'MISS' },
      { req: get('/public', { cookie: 'session=alice' }), cache: 'HIT', json: expectFor('anyone') },
      { req: get('/greet', { 'accept-language': 'en', cookie: 'session=alice' }), cache: 'MISS' },
      {
        req: get('/greet', { 'accept-language': 'en', cookie: 'session=bob' }),
        cache: 'HIT',
        calls: { 'GET /public': 1, 'GET /greet': 1 },
      },
    ],
  },
  {
    name: 'ignoredCookies: analytics and consent cookies do not count, any other cookie or Authorization still does',
    options: { ignoredCookies: ['_ga', '_ga_*', '_gid', '_fbp', 'OptanonConsent'] },
    routes: () => [{ method: 'GET', path: '/page', cache: {}, handle: page }],
    steps: [
      { req: '/page', cache: 'MISS' },
      {
        req: get('/page', {
          cookie: '_ga=GA1.1.1; _ga_X1Y2=GS1.1; _gid=GA1.2; _fbp=fb.1; OptanonConsent=isGpc=0',
        }),
        cache: 'HIT',
        json: expectFor('anyone'),
      },
      { req: get('/page', { cookie: '_ga=GA1.1.1; session=carol' }), cache: 'SKIP' },
      // Cookie names are case-sensitive (RFC 6265 §4.1.1): `_GA` is not `_ga`.
      { req: get('/page', { cookie: '_GA=1' }), cache: 'SKIP' },
      { req: get('/page', { cookie: '_ga=1', authorization: 'Bearer alice' }), cache: 'SKIP' },
      { req: '/page', cache: 'HIT', calls: { 'GET /page': 4 } },
    ],
  },

  // ---- Hosts -------------------------------------------------------------------------------
  {
    name: 'the host is part of the key: one tenant’s page is never served to another host',
    routes: () => [{ method: 'GET', path: '/page', cache: {}, handle: page }],
    steps: [
      { req: at('tenant-a.example'), cache: 'MISS', json: expectLink('tenant-a.example') },
      { req: at('tenant-b.example'), cache: 'MISS', json: expectLink('tenant-b.example') },
      { req: at('tenant-a.example'), cache: 'HIT', json: expectLink('tenant-a.example') },
      { req: at('TENANT-B.example'), cache: 'HIT', json: expectLink('tenant-b.example') },
      { req: at('tenant-b.example:8080'), cache: 'MISS', calls: { 'GET /page': 3 } },
    ],
  },
  {
    name: 'a forged X-Forwarded-Host (proxy not trusted) is SKIP and never poisons the entry',
    routes: () => [{ method: 'GET', path: '/page', cache: {}, handle: page }],
    steps: [
      {
        req: at('shop.example', { 'x-forwarded-host': 'evil.example' }),
        cache: 'SKIP',
        json: expectLink('evil.example'),
      },
      { req: at('shop.example'), cache: 'MISS', json: expectLink('shop.example') },
      {
        req: at('shop.example', { 'x-forwarded-host': 'evil.example' }),
        cache: 'SKIP',
        json: expectLink('evil.example'),
      },
      {
        req: at('shop.example', { forwarded: 'for=192.0.2.1;host=evil.example' }),
        cache: 'SKIP',
      },
      { req: at('shop.example'), cache: 'HIT', json: expectLink('shop.example') },
      // The same host forwarded is no forgery.
      { req: at('shop.example', { 'x-forwarded-host': 'shop.example' }), cache: 'HIT' },
    ],
  },
  {
    name: 'a trusted proxy’s X-Forwarded-Host is the host of the key',
    trustProxy: true,
    routes: () => [{ method: 'GET', path: '/page', cache: {}, handle: page }],
    steps: [
      {
        req: at('backend.internal', { 'x-forwarded-host': 'tenant-a.example' }),
        cache: 'MISS',
        json: expectLink('tenant-a.example'),
      },
      {
        req: at('backend.internal', { 'x-forwarded-host': 'tenant-b.example' }),
        cache: 'MISS',
        json: expectLink('tenant-b.example'),
      },
      {
        req: at('backend.internal', { 'x-forwarded-host': 'tenant-a.example' }),
        cache: 'HIT',
        json: expectLink('tenant-a.example'),
      },
      { req: at('tenant-a.example'), cache: 'HIT', calls: { 'GET /page': 2 } },
    ],
  },
  {
    name: 'hosts: a host outside the allowlist is never cached',
    options: { hosts: ['shop.example', '*.tenants.example'] },
    routes: () => [{ method: 'GET', path: '/page', cache: {}, handle: page }],
    steps: [
      { req: at('shop.example'), cache: 'MISS' },
      { req: at('shop.example:8443'), cache: 'MISS' },
      { req: at('a.tenants.example'), cache: 'MISS' },
      { req: at('a.tenants.example'), cache: 'HIT' },
      { req: at('evil.example'), cache: 'SKIP' },
      { req: at('evil.example'), cache: 'SKIP' },
      { req: at('tenants.example'), cache: 'SKIP', calls: { 'GET /page': 6 } },
    ],
  },

  // ---- A client's no-cache ------------------------------------------------------------------
  {
    name: 'Cache-Control: no-cache refreshes a key at most once per minRefresh (1 s); more often it is a HIT',
    clock: true,
    routes: () => [
      { method: 'GET', path: '/n', cache: {}, handle: () => ({ json: { v: fresh() } }) },
    ],
    steps: [
      { req: '/n', cache: 'MISS' },
      // Just stored: that was this key's refresh for now.
      { req: get('/n', { 'cache-control': 'no-cache' }), cache: 'HIT', calls: { 'GET /n': 1 } },
      { act: ({ clock }) => clock?.advance(1_000) },
      { req: get('/n', { 'cache-control': 'no-cache' }), cache: 'BYPASS', calls: { 'GET /n': 2 } },
      ...Array.from({ length: 5 }, () => ({
        req: get('/n', { 'cache-control': 'no-cache' }),
        cache: 'HIT' as const,
      })),
      { req: get('/n', { pragma: 'no-cache' }), cache: 'HIT', calls: { 'GET /n': 2 } },
      {
        act: ({ responses }) => {
          const bodies = responses.slice(3).map((r) => r.body)
          expect(new Set(bodies).size).toBe(1)
        },
      },
      { act: ({ clock }) => clock?.advance(999) },
      { req: get('/n', { 'cache-control': 'no-cache' }), cache: 'HIT' },
      { act: ({ clock }) => clock?.advance(1) },
      { req: get('/n', { pragma: 'no-cache' }), cache: 'BYPASS', calls: { 'GET /n': 3 } },
    ],
  },
  {
    name: 'minRefresh is an option; a refresh is not a write when the entry is fresh enough',
    clock: true,
    options: { minRefresh: '10s' },
    routes: () => [
      { method: 'GET', path: '/n', cache: {}, handle: () => ({ json: { v: fresh() } }) },
    ],
    steps: [
      { req: '/n', cache: 'MISS' },
      { act: ({ clock }) => clock?.advance(9_999) },
      { req: get('/n', { 'cache-control': 'no-cache' }), cache: 'HIT' },
      { act: ({ clock }) => clock?.advance(1) },
      { req: get('/n', { 'cache-control': 'no-cache' }), cache: 'BYPASS', calls: { 'GET /n': 2 } },
    ],
  },

  // ---- The response's own freshness (RFC 9111 §4.2.1) ------------------------------------------
  {
    name: 'max-age=0 and s-maxage=0 responses are never stored nor served (SKIP)',
    routes: () => [
      {
        method: 'GET',
        path: '/zero',
        cache: { ttl: '1m' },
        handle: () => ({ headers: { 'cache-control': 'max-age=0' }, json: { v: fresh() } }),
      },
      {
        method: 'GET',
        path: '/szero',
        cache: { ttl: '1m' },
        handle: () => ({
          headers: { 'cache-control': 'public, s-maxage=0, max-age=60' },
          json: { v: fresh() },
        }),
      },
      {
        method: 'GET',
        path: '/expired',
        cache: { ttl: '1m' },
        handle: () => ({
          headers: { expires: 'Thu, 01 Jan 1970 00:00:00 GMT' },
          json: { v: fresh() },
        }),
      },
      {
        method: 'GET',
        path: '/bad-expires',
        cache: { ttl: '1m' },
        handle: () => ({ headers: { expires: '0' }, json: { v: fresh() } }),
      },
    ],
    steps: [
      { req: '/zero', cache: 'SKIP' },
      { req: '/zero', cache: 'SKIP', calls: { 'GET /zero': 2 } },
      { req: '/szero', cache: 'SKIP' },
      { req: '/szero', cache: 'SKIP', calls: { 'GET /szero': 2 } },
      { req: '/expired', cache: 'SKIP' },
      { req: '/expired', cache: 'SKIP', calls: { 'GET /expired': 2 } },
      { req: '/bad-expires', cache: 'SKIP' },
      { req: '/bad-expires', cache: 'SKIP', calls: { 'GET /bad-expires': 2 } },
    ],
  },
  {
    name: 'the shorter of the route ttl and the response’s own lifetime wins (s-maxage, max-age, Expires, Age)',
    clock: true,
    routes: (_cache, clock) => [
      {
        method: 'GET',
        path: '/max-age',
        cache: { ttl: '1m' },
        handle: () => ({ headers: { 'cache-control': 'max-age=10' }, json: { v: fresh() } }),
      },
      {
        method: 'GET',
        path: '/s-maxage',
        cache: { ttl: '1m' },
        handle: () => ({
          headers: { 'cache-control': 'max-age=60, s-maxage=5' },
          json: { v: fresh() },
        }),
      },
      {
        method: 'GET',
        path: '/expires',
        cache: { ttl: '1m' },
        handle: () => ({
          headers: { expires: new Date((clock?.now() ?? 0) + 20_000).toUTCString() },
          json: { v: fresh() },
        }),
      },
      {
        method: 'GET',
        path: '/aged',
        cache: { ttl: '1m' },
        handle: () => ({
          headers: { 'cache-control': 'max-age=30', age: '25' },
          json: { v: fresh() },
        }),
      },
      {
        method: 'GET',
        path: '/short-route',
        cache: { ttl: '3s' },
        handle: () => ({ headers: { 'cache-control': 'max-age=600' }, json: { v: fresh() } }),
      },
      {
        method: 'GET',
        path: '/none',
        cache: { ttl: '40s' },
        handle: () => ({ headers: { 'cache-control': 'public' }, json: { v: fresh() } }),
      },
    ],
    steps: [
      ...['/max-age', '/s-maxage', '/expires', '/aged', '/short-route', '/none'].map((url) => ({
        req: url,
        cache: 'MISS' as const,
      })),
      { act: ({ clock }) => clock?.advance(2_999) },
      ...['/max-age', '/s-maxage', '/expires', '/aged', '/short-route', '/none'].map((url) => ({
        req: url,
        cache: 'HIT' as const,
      })),
      { act: ({ clock }) => clock?.advance(1) }, // 3 s
      { req: '/short-route', cache: 'MISS' },
      { act: ({ clock }) => clock?.advance(2_000) }, // 5 s
      { req: '/aged', cache: 'MISS' },
      { req: '/s-maxage', cache: 'MISS' },
      { req: '/max-age', cache: 'HIT' },
      { act: ({ clock }) => clock?.advance(5_000) }, // 10 s
      { req: '/max-age', cache: 'MISS' },
      { req: '/expires', cache: 'HIT' },
      { act: ({ clock }) => clock?.advance(10_000) }, // 20 s
      { req: '/expires', cache: 'MISS' },
      { req: '/none', cache: 'HIT' },
      { act: ({ clock }) => clock?.advance(20_000) }, // 40 s
      { req: '/none', cache: 'MISS' },
    ],
  },
]

function expectFor(who: string) {
  return { for: who, link: expect.any(String) as unknown, v: expect.any(Number) as unknown }
}

function expectLink(host: string) {
  return { for: 'anyone', link: `https://${host}/next`, v: expect.any(Number) as unknown }
}
