import { expect } from 'vitest'

import { dependsOn, entityTag } from '../../src/index.js'
import { deferred, until } from '../helpers/deferred.js'
import { type Case, get, type TableRoute, USER } from './harness.js'
import { sharingCases } from './sharing-cases.js'

/**
 * The behaviour every HTTP adapter must show, as a table. Each case declares routes, options and
 * steps: requests with what their responses must be, and actions in between.
 */

const json = (value: unknown) => ({ json: value })
const anyNumber: unknown = expect.any(Number)
let version = 0
const fresh = () => ++version

const spaces = (): TableRoute[] => [
  { method: 'GET', path: '/spaces', cache: {}, handle: () => json([{ id: 1 }, { id: 2 }]) },
  {
    method: 'GET',
    path: '/spaces/:s',
    cache: {},
    handle: (r) => json({ id: Number(r.params['s']), v: fresh() }),
  },
  {
    method: 'GET',
    path: '/spaces/:s/items',
    cache: {},
    handle: (r) =>
      json({ items: [{ id: 8 }, { id: 9 }], page: r.query['page'] ?? '1', v: fresh() }),
  },
  {
    method: 'GET',
    path: '/spaces/:s/items/:i',
    cache: {},
    handle: (r) =>
      r.params['i'] === '10' && !created
        ? { status: 404, json: { error: 'not found' } }
        : json({ id: Number(r.params['i']), v: fresh() }),
  },
  {
    method: 'GET',
    path: '/spaces/:s/items/:i/comments',
    cache: {},
    handle: () => json([{ id: 100, v: fresh() }]),
  },
  {
    method: 'GET',
    path: '/feed',
    cache: { entity: 'item' },
    handle: () => json([{ id: 9, v: fresh() }]),
  },
  {
    method: 'PATCH',
    path: '/spaces/:s/items/:i',
    handle: (r) =>
      r.query['fail'] === '1'
        ? { status: 422, json: { error: 'no' } }
        : json({ id: Number(r.params['i']) }),
  },
  { method: 'PUT', path: '/spaces/:s/items/:i', handle: () => ({ throws: true }) },
  {
    method: 'POST',
    path: '/spaces/:s/items',
    handle: () => {
      created = true
      return { status: 201, json: { id: 10 } }
    },
  },
]
let created = false

export const cases: Case[] = [
  // ---- Opting in -------------------------------------------------------------------------
  {
    name: 'an opted-in GET is a MISS, then a HIT replayed with Age and the same ETag',
    routes: () => [
      { method: 'GET', path: '/users', cache: {}, handle: () => json([{ id: 7, name: 'Ann' }]) },
    ],
    steps: [
      {
        req: '/users',
        status: 200,
        cache: 'MISS',
        json: [{ id: 7, name: 'Ann' }],
        headers: { etag: /^"[\w-]{27}"$/, age: null },
        calls: { 'GET /users': 1 },
      },
      {
        req: '/users',
        status: 200,
        cache: 'HIT',
        json: [{ id: 7, name: 'Ann' }],
        headers: { age: /^\d+$/, 'content-type': /application\/json/ },
        calls: { 'GET /users': 1 },
      },
      { act: ({ responses: [a, b] }) => expect(b?.headers['etag']).toBe(a?.headers['etag']) },
    ],
  },
  {
    name: 'a route that does not opt in is not cached and carries no X-Cache',
    routes: () => [{ method: 'GET', path: '/plain', handle: () => json({ v: fresh() }) }],
    steps: [
      { req: '/plain', cache: null },
      { req: '/plain', cache: null, calls: { 'GET /plain': 2 } },
    ],
  },
  {
    name: 'cacheAll caches every GET route, and enabled: false opts one out',
    options: { cacheAll: true },
    routes: () => [
      { method: 'GET', path: '/a', handle: () => json({ v: fresh() }) },
      { method: 'GET', path: '/b', cache: { enabled: false }, handle: () => json({ v: fresh() }) },
    ],
    steps: [
      { req: '/a', cache: 'MISS' },
      { req: '/a', cache: 'HIT', calls: { 'GET /a': 1 } },
      { req: '/b', cache: null },
      { req: '/b', cache: null, calls: { 'GET /b': 2 } },
    ],
  },
  {
    name: 'the response is stored before it is sent: the entry exists when the MISS arrives',
    routes: () => [{ method: 'GET', path: '/now', cache: {}, handle: () => json({ v: 1 }) }],
    steps: [
      { req: get('/now', { host: 'shop.example' }), cache: 'MISS' },
      {
        act: async ({ cache }) =>
          expect((await cache.inspect('GET /now @shop.example'))?.status).toBe('valid'),
      },
    ],
  },

  // ---- Keys ------------------------------------------------------------------------------
  {
    name: 'query parameter order does not matter, repeated parameters keep their order',
    routes: () => [
      { method: 'GET', path: '/q', cache: {}, handle: (r) => json({ q: r.query, v: fresh() }) },
    ],
    steps: [
      { req: '/q?b=2&a=1', cache: 'MISS' },
      { req: '/q?a=1&b=2', cache: 'HIT' },
      { req: '/q?t=1&t=2', cache: 'MISS' },
      { req: '/q?t=2&t=1', cache: 'MISS' },
      { req: '/q?x=0&t=1&t=2', cache: 'MISS' },
      { req: '/q?t=1&x=0&t=2', cache: 'HIT' },
      { req: '/q?t=2&x=0&t=1', cache: 'MISS', calls: { 'GET /q': 5 } },
    ],
  },
  {
    name: 'a path never collides with a query: /items/page=1 vs /items?page=1',
    routes: () => [
      { method: 'GET', path: '/items', cache: {}, handle: (r) => json({ list: r.query['page'] }) },
      {
        method: 'GET',
        path: '/items/:slug',
        cache: {},
        handle: (r) => json({ slug: r.params['slug'] }),
      },
    ],
    steps: [
      { req: '/items/page=1', cache: 'MISS', json: { slug: 'page=1' } },
      { req: '/items?page=1', cache: 'MISS', json: { list: '1' } },
      { req: '/items/page=1', cache: 'HIT', json: { slug: 'page=1' } },
      { req: '/items?page=1', cache: 'HIT', json: { list: '1' } },
    ],
  },
  {
    name: 'encoded separators cannot be forged; equivalent encodings share an entry',
    routes: () => [
      { method: 'GET', path: '/s', cache: {}, handle: (r) => json({ q: r.query, v: fresh() }) },
    ],
    steps: [
      { req: '/s?q=a%26b%3Dc', cache: 'MISS', json: { q: { q: 'a&b=c' }, v: anyNumber } },
      { req: '/s?q=a&b=c', cache: 'MISS', json: { q: { q: 'a', b: 'c' }, v: anyNumber } },
      { req: '/s?q=a%20b', cache: 'MISS' },
      { req: '/s?q=a+b', cache: 'HIT' },
      { req: '/s?q=%61', cache: 'MISS' },
      { req: '/s?q=a', cache: 'HIT' },
      { req: '/s?q=x%20%23h:x=1', cache: 'MISS', calls: { 'GET /s': 5 } },
    ],
  },

  // ---- What is stored --------------------------------------------------------------------
  {
    name: 'statuses: 404 is cached, 500 and 201 are not (SKIP)',
    routes: () => [
      {
        method: 'GET',
        path: '/gone',
        cache: {},
        handle: () => ({ status: 404, json: { error: 'nope' } }),
      },
      {
        method: 'GET',
        path: '/boom',
        cache: {},
        handle: () => ({ status: 500, json: { v: fresh() } }),
      },
      { method: 'GET', path: '/made', cache: {}, handle: () => ({ status: 201, json: {} }) },
    ],
    steps: [
      { req: '/gone', status: 404, cache: 'MISS' },
      { req: '/gone', status: 404, cache: 'HIT', json: { error: 'nope' } },
      { req: '/boom', status: 500, cache: 'SKIP' },
      { req: '/boom', status: 500, cache: 'SKIP', calls: { 'GET /boom': 2 } },
      { req: '/made', status: 201, cache: 'SKIP' },
      { req: '/made', status: 201, cache: 'SKIP', calls: { 'GET /made': 2 } },
    ],
  },
  {
    name: 'a thrown handler error is never cached',
    routes: () => [{ method: 'GET', path: '/throws', cache: {}, handle: () => ({ throws: true }) }],
    steps: [
      { req: '/throws', status: 500, cache: 'SKIP' },
      { req: '/throws', status: 500, cache: 'SKIP', calls: { 'GET /throws': 2 } },
    ],
  },
  {
    name: 'Set-Cookie, Cache-Control: private / no-store / no-cache responses are never stored',
    routes: () => [
      {
        method: 'GET',
        path: '/cookie',
        cache: {},
        handle: () => ({ headers: { 'set-cookie': `sid=${fresh()}` }, json: {} }),
      },
      {
        method: 'GET',
        path: '/private',
        cache: {},
        handle: () => ({ headers: { 'cache-control': 'max-age=60, private' }, json: {} }),
      },
      {
        method: 'GET',
        path: '/nostore',
        cache: {},
        handle: () => ({ headers: { 'cache-control': 'no-store' }, json: {} }),
      },
      {
        method: 'GET',
        path: '/nocache',
        cache: {},
        handle: () => ({ headers: { 'cache-control': 'No-Cache' }, json: {} }),
      },
    ],
    steps: [
      { req: '/cookie', cache: 'SKIP', headers: { 'set-cookie': /^sid=\d+$/ } },
      { req: '/cookie', cache: 'SKIP', calls: { 'GET /cookie': 2 } },
      {
        act: ({ responses: [a, b] }) =>
          expect(a?.headers['set-cookie']).not.toBe(b?.headers['set-cookie']),
      },
      { req: '/private', cache: 'SKIP' },
      { req: '/private', cache: 'SKIP', calls: { 'GET /private': 2 } },
      { req: '/nostore', cache: 'SKIP' },
      { req: '/nostore', cache: 'SKIP', calls: { 'GET /nostore': 2 } },
      { req: '/nocache', cache: 'SKIP' },
      { req: '/nocache', cache: 'SKIP', calls: { 'GET /nocache': 2 } },
    ],
  },
  {
    name: 'replays keep representation headers and drop per-request ones',
    options: { dropHeaders: ['x-trace'] },
    routes: () => [
      {
        method: 'GET',
        path: '/h',
        cache: {},
        handle: () => ({
          headers: {
            'x-custom': 'kept',
            'x-request-id': `r${fresh()}`,
            'x-trace': 't',
            'content-language': 'en',
          },
          json: { ok: true },
        }),
      },
    ],
    steps: [
      { req: '/h', cache: 'MISS', headers: { 'x-request-id': /^r\d+$/, 'x-trace': 't' } },
      {
        req: '/h',
        cache: 'HIT',
        headers: {
          'x-custom': 'kept',
          'content-language': 'en',
          'x-request-id': null,
          'x-trace': null,
          'set-cookie': null,
        },
      },
    ],
  },
  {
    name: 'maxResponseBytes: a larger response passes through untouched and is not stored',
    options: { maxResponseBytes: 100 },
    routes: () => [
      { method: 'GET', path: '/big', cache: {}, handle: () => ({ text: 'x'.repeat(101) }) },
      { method: 'GET', path: '/small', cache: {}, handle: () => ({ text: 'x'.repeat(100) }) },
    ],
    steps: [
      { req: '/big', cache: 'SKIP', text: 'x'.repeat(101) },
      { req: '/big', cache: 'SKIP', text: 'x'.repeat(101), calls: { 'GET /big': 2 } },
      { req: '/small', cache: 'MISS' },
      { req: '/small', cache: 'HIT', text: 'x'.repeat(100) },
    ],
  },
  {
    name: 'a streamed response passes through untouched and is not stored',
    routes: () => [
      { method: 'GET', path: '/stream', cache: {}, handle: () => ({ stream: 'chunked body' }) },
    ],
    steps: [
      { req: '/stream', cache: 'SKIP', text: 'chunked body' },
      { req: '/stream', cache: 'SKIP', text: 'chunked body', calls: { 'GET /stream': 2 } },
    ],
  },
  {
    name: 'HEAD is cached on its own key and replayed without a body',
    routes: () => [
      { method: 'GET', path: '/head', cache: {}, handle: () => json({ hello: 'world' }) },
    ],
    steps: [
      { req: { method: 'HEAD', url: '/head' }, status: 200, cache: 'MISS', text: '' },
      {
        req: { method: 'HEAD', url: '/head' },
        status: 200,
        cache: 'HIT',
        text: '',
        headers: { etag: /^"/, 'content-type': /json/ },
      },
      { req: '/head', cache: 'MISS', json: { hello: 'world' } },
      { req: '/head', cache: 'HIT', json: { hello: 'world' } },
    ],
  },

  // ---- Validators and request directives ---------------------------------------------
  {
    name: 'If-None-Match on a hit answers 304 (weak comparison, *, lists); a mismatch gets the body',
    routes: () => [{ method: 'GET', path: '/e', cache: {}, handle: () => json({ e: 1 }) }],
    steps: [
      { req: '/e', cache: 'MISS' },
      {
        req: ({ responses }) => get('/e', { 'if-none-match': responses[0]?.headers['etag'] ?? '' }),
        status: 304,
        cache: 'HIT',
        text: '',
      },
      {
        req: ({ responses }) =>
          get('/e', { 'if-none-match': `"x", W/${responses[0]?.headers['etag'] ?? ''}` }),
        status: 304,
      },
      { req: get('/e', { 'if-none-match': '*' }), status: 304 },
      { req: get('/e', { 'if-none-match': '"other"' }), status: 200, cache: 'HIT', json: { e: 1 } },
      { req: '/e', calls: { 'GET /e': 1 } },
    ],
  },
  {
    name: "the app's own ETag is kept and used for 304",
    routes: () => [
      {
        method: 'GET',
        path: '/own',
        cache: {},
        handle: () => ({ headers: { etag: '"v42"' }, json: {} }),
      },
    ],
    steps: [
      { req: '/own', cache: 'MISS', headers: { etag: '"v42"' } },
      { req: get('/own', { 'if-none-match': '"v42"' }), status: 304, headers: { etag: '"v42"' } },
    ],
  },
  {
    name: 'Cache-Control: no-cache BYPASSes and refreshes the entry; Pragma too; no-store stays away',
    clock: true,
    routes: () => [{ method: 'GET', path: '/n', cache: {}, handle: () => json({ v: fresh() }) }],
    steps: [
      { req: '/n', cache: 'MISS' },
      // A key is refreshed at most once per `minRefresh` (1 s): see sharing-cases.ts.
      { act: ({ clock }) => clock?.advance(1_000) },
      { req: get('/n', { 'cache-control': 'no-cache' }), cache: 'BYPASS', headers: { etag: /^"/ } },
      { req: '/n', cache: 'HIT' },
      {
        act: ({ responses: [a, b, c] }) => {
          expect(b?.body).not.toBe(a?.body)
          expect(c?.body).toBe(b?.body)
        },
      },
      { act: ({ clock }) => clock?.advance(1_000) },
      { req: get('/n', { pragma: 'no-cache' }), cache: 'BYPASS', calls: { 'GET /n': 3 } },
      { req: get('/n', { 'cache-control': 'no-store' }), cache: 'SKIP', calls: { 'GET /n': 4 } },
      { req: '/n', cache: 'HIT', calls: { 'GET /n': 4 } },
    ],
  },
  {
    name: 'honorNoCache: false serves hits whatever the request says',
    options: { honorNoCache: false },
    routes: () => [{ method: 'GET', path: '/n', cache: {}, handle: () => json({ v: fresh() }) }],
    steps: [
      { req: '/n', cache: 'MISS' },
      { req: get('/n', { 'cache-control': 'no-cache' }), cache: 'HIT', calls: { 'GET /n': 1 } },
    ],
  },

  // ---- Variants and credentials ---------------------------------------------------------
  {
    name: 'varyBy a header: one entry per value, a missing value is SKIP',
    routes: () => [
      {
        method: 'GET',
        path: '/greet',
        cache: { varyBy: ['Accept-Language'] },
        handle: (r) => json({ lang: r.headers['accept-language'] ?? null }),
      },
    ],
    steps: [
      { req: get('/greet', { 'accept-language': 'en' }), cache: 'MISS', json: { lang: 'en' } },
      { req: get('/greet', { 'accept-language': 'fr' }), cache: 'MISS', json: { lang: 'fr' } },
      { req: get('/greet', { 'accept-language': 'en' }), cache: 'HIT', json: { lang: 'en' } },
      { req: '/greet', cache: 'SKIP', json: { lang: null } },
      { req: '/greet', cache: 'SKIP', calls: { 'GET /greet': 4 } },
    ],
  },
  {
    name: 'varyBy the user, read after authentication: users never see each other’s responses',
    routes: () => [
      {
        method: 'GET',
        path: '/me',
        cache: { varyBy: [USER] },
        handle: (r) => json({ me: r.user ?? null }),
      },
    ],
    steps: [
      { req: get('/me', { authorization: 'Bearer alice' }), cache: 'MISS', json: { me: 'alice' } },
      { req: get('/me', { authorization: 'Bearer bob' }), cache: 'MISS', json: { me: 'bob' } },
      { req: get('/me', { authorization: 'Bearer alice' }), cache: 'HIT', json: { me: 'alice' } },
      { req: get('/me', { authorization: 'Bearer bob' }), cache: 'HIT', json: { me: 'bob' } },
      { req: '/me', cache: 'SKIP', json: { me: null }, calls: { 'GET /me': 3 } },
    ],
  },
  {
    name: 'Authorization requests bypass routes without varyBy or public (RFC 9111 §3.5)',
    routes: () => [
      { method: 'GET', path: '/doc', cache: {}, handle: (r) => json({ for: r.user ?? 'anyone' }) },
      {
        method: 'GET',
        path: '/pub',
        cache: { public: true },
        handle: (r) => json({ for: r.user ?? 'anyone' }),
      },
    ],
    steps: [
      { req: '/doc', cache: 'MISS', json: { for: 'anyone' } },
      {
        req: get('/doc', { authorization: 'Bearer alice' }),
        cache: 'SKIP',
        json: { for: 'alice' },
      },
      {
        req: get('/doc', { authorization: 'Bearer alice' }),
        cache: 'SKIP',
        calls: { 'GET /doc': 3 },
      },
      { req: '/doc', cache: 'HIT', json: { for: 'anyone' } },
      { req: '/pub', cache: 'MISS', json: { for: 'anyone' } },
      {
        req: get('/pub', { authorization: 'Bearer alice' }),
        cache: 'HIT',
        json: { for: 'anyone' },
        calls: { 'GET /pub': 1 },
      },
    ],
  },
  {
    name: "the response's own Vary becomes part of the key; a variant is never served for another",
    routes: () => [
      {
        method: 'GET',
        path: '/neg',
        cache: {},
        handle: (r) => ({
          headers: { vary: 'Accept' },
          json: { type: r.headers['accept'] ?? 'none', v: fresh() },
        }),
      },
    ],
    steps: [
      // Learning: the first response varies on a header its key did not include.
      {
        req: get('/neg', { accept: 'a/json' }),
        cache: 'SKIP',
        json: { type: 'a/json', v: anyNumber },
      },
      { req: get('/neg', { accept: 'a/json' }), cache: 'MISS' },
      {
        req: get('/neg', { accept: 'a/xml' }),
        cache: 'MISS',
        json: { type: 'a/xml', v: anyNumber },
      },
      {
        req: get('/neg', { accept: 'a/json' }),
        cache: 'HIT',
        json: { type: 'a/json', v: anyNumber },
        headers: { vary: 'Accept' },
      },
      {
        req: get('/neg', { accept: 'a/xml' }),
        cache: 'HIT',
        json: { type: 'a/xml', v: anyNumber },
      },
      { req: '/neg', cache: 'MISS', json: { type: 'none', v: anyNumber } },
      {
        req: '/neg',
        cache: 'HIT',
        json: { type: 'none', v: anyNumber },
        calls: { 'GET /neg': 4 },
      },
    ],
  },
  {
    name: 'Vary: * is never cached',
    routes: () => [
      {
        method: 'GET',
        path: '/star',
        cache: {},
        handle: () => ({ headers: { vary: '*' }, json: {} }),
      },
    ],
    steps: [
      { req: '/star', cache: 'SKIP' },
      { req: '/star', cache: 'SKIP', calls: { 'GET /star': 2 } },
    ],
  },

  // ---- Tags of a response ------------------------------------------------------------------
  {
    name: 'entity tags from a JSON list: invalidateEntity(user, 7) drops /users, user 8 does not',
    routes: () => [
      { method: 'GET', path: '/users', cache: {}, handle: () => json([{ id: 7 }, { id: '9' }]) },
    ],
    steps: [
      { req: '/users', cache: 'MISS' },
      { act: ({ cache }) => cache.invalidateEntity('user', 8) },
      { req: '/users', cache: 'HIT' },
      { act: ({ cache }) => cache.invalidateEntity('user', 7) },
      { req: '/users', cache: 'MISS' },
      { act: ({ cache }) => cache.invalidate(entityTag('user', 9)) },
      { req: '/users', cache: 'MISS', calls: { 'GET /users': 3 } },
    ],
  },
  {
    name: 'entity of the path (/users/7 → user:7, even a 404), paged bodies, entityTypes overrides',
    options: { entityTypes: { people: 'person', stats: false } },
    routes: () => [
      {
        method: 'GET',
        path: '/users/:id',
        cache: {},
        handle: (r) => (r.params['id'] === '7' ? json({ name: 'x' }) : { status: 404, json: {} }),
      },
      {
        method: 'GET',
        path: '/people',
        cache: {},
        handle: () => json({ items: [{ id: 1 }], next: null }),
      },
      { method: 'GET', path: '/categories', cache: {}, handle: () => json({ data: [{ id: 3 }] }) },
      { method: 'GET', path: '/stats', cache: {}, handle: () => json([{ id: 4 }]) },
    ],
    steps: [
      { req: '/users/7', cache: 'MISS' },
      { req: '/users/8', status: 404, cache: 'MISS' },
      { req: '/people', cache: 'MISS' },
      { req: '/categories', cache: 'MISS' },
      { req: '/stats', cache: 'MISS' },
      {
        act: ({ cache }) =>
          cache.invalidate(['user:7', 'user:8', 'person:1', 'category:3', 'stat:4']),
      },
      { req: '/users/7', cache: 'MISS' },
      { req: '/users/8', cache: 'MISS' },
      { req: '/people', cache: 'MISS' },
      { req: '/categories', cache: 'MISS' },
      { req: '/stats', cache: 'HIT' },
    ],
  },
  {
    name: 'dependsOn in the handler and route tags reach the response',
    routes: () => [
      {
        method: 'GET',
        path: '/report',
        cache: { tags: ['reports'] },
        handle: () => {
          dependsOn('sales:2024')
          return json({ v: fresh() })
        },
      },
      {
        method: 'GET',
        path: '/mine',
        cache: { tags: (r) => [`q:${String(r.query['k'])}`] },
        handle: () => json({ v: fresh() }),
      },
    ],
    steps: [
      { req: '/report', cache: 'MISS' },
      { act: ({ cache }) => cache.invalidate('sales:2024') },
      { req: '/report', cache: 'MISS' },
      { act: ({ cache }) => cache.invalidate('reports') },
      { req: '/report', cache: 'MISS' },
      { req: '/report', cache: 'HIT', calls: { 'GET /report': 3 } },
      { req: '/mine?k=1', cache: 'MISS' },
      { act: ({ cache }) => cache.invalidate('q:1') },
      { req: '/mine?k=1', cache: 'MISS' },
    ],
  },
  {
    name: "a memoized call's tags flow into the response: invalidating it makes the next GET a MISS",
    routes: (cache) => {
      const loadProfile = cache.wrap(async (id: string) => ({ id, v: fresh() }), {
        name: 'loadProfile',
        // Not `profile:<id>`, the path's own entity tag: only the inner call carries this one.
        tags: (args) => [`prof:${args[0]}`],
      })
      return [
        {
          method: 'GET',
          path: '/profile/:id',
          cache: {},
          handle: async (r) => json(await loadProfile(r.params['id'] as string)),
        },
      ]
    },
    steps: [
      { req: '/profile/a', cache: 'MISS' },
      { req: '/profile/b', cache: 'MISS' },
      { act: ({ cache }) => cache.invalidate('prof:a') },
      { req: '/profile/a', cache: 'MISS' },
      { req: '/profile/b', cache: 'HIT' },
    ],
  },

  // ---- Writes invalidate ------------------------------------------------------------------
  {
    name: 'PATCH /spaces/1/items/9 invalidates the item, its subtree, collection, parent and item:9 — not the sibling',
    routes: spaces,
    steps: [
      ...[
        '/spaces',
        '/spaces/1',
        '/spaces/1/items',
        '/spaces/1/items?page=2',
        '/spaces/1/items/9',
        '/spaces/1/items/9/comments',
        '/spaces/1/items/8',
        '/spaces/2/items/9',
        '/feed',
      ].map((url) => ({ req: url, cache: 'MISS' as const })),
      { req: { method: 'PATCH', url: '/spaces/1/items/9' }, status: 200, cache: null },
      { req: '/spaces/1/items/9', cache: 'MISS' },
      { req: '/spaces/1/items/9/comments', cache: 'MISS' },
      { req: '/spaces/1/items', cache: 'MISS' },
      { req: '/spaces/1/items?page=2', cache: 'MISS' },
      { req: '/spaces/1', cache: 'MISS' },
      { req: '/feed', cache: 'MISS' },
      { req: '/spaces/1/items/8', cache: 'HIT' },
      { req: '/spaces', cache: 'HIT' },
      // Another space's item 9 is item:9 too (ids are global to a type): it goes as well.
      { req: '/spaces/2/items/9', cache: 'MISS' },
    ],
  },
  {
    name: 'failed writes invalidate nothing (non-2xx, thrown)',
    routes: spaces,
    steps: [
      { req: '/spaces/1/items/9', cache: 'MISS' },
      { req: { method: 'PATCH', url: '/spaces/1/items/9?fail=1' }, status: 422 },
      { req: { method: 'PUT', url: '/spaces/1/items/9' }, status: 500 },
      { req: '/spaces/1/items/9', cache: 'HIT' },
    ],
  },
  {
    name: 'POST to a collection invalidates it and its parent, and the created entity (a cached 404)',
    routes: spaces,
    steps: [
      { act: () => void (created = false) },
      ...['/spaces/1/items', '/spaces/1', '/spaces/1/items/8'].map((url) => ({
        req: url,
        cache: 'MISS' as const,
      })),
      { req: '/spaces/1/items/10', status: 404, cache: 'MISS' },
      { req: '/spaces/1/items/10', status: 404, cache: 'HIT' },
      { req: { method: 'POST', url: '/spaces/1/items' }, status: 201 },
      { req: '/spaces/1/items/10', status: 200, cache: 'MISS' },
      { req: '/spaces/1/items', cache: 'MISS' },
      { req: '/spaces/1', cache: 'MISS' },
      { req: '/spaces/1/items/8', cache: 'HIT' },
    ],
  },
  {
    name: "invalidation: 'hierarchical' clears every ancestor's subtree (the seed's rule)",
    options: { invalidation: 'hierarchical' },
    routes: spaces,
    steps: [
      ...['/spaces', '/spaces/1/items/8', '/spaces/2'].map((url) => ({
        req: url,
        cache: 'MISS' as const,
      })),
      { req: { method: 'PATCH', url: '/spaces/1/items/9' }, status: 200 },
      { req: '/spaces/1/items/8', cache: 'MISS' },
      { req: '/spaces', cache: 'MISS' },
      { req: '/spaces/2', cache: 'MISS' },
    ],
  },
  {
    name: 'invalidation: false turns it off; a route adds its own tags (list or function of the response)',
    options: { invalidation: false },
    routes: () => [
      {
        method: 'GET',
        path: '/things/:id',
        cache: { tags: ['things'] },
        handle: (r) => json({ id: r.params['id'], v: fresh() }),
      },
      { method: 'PATCH', path: '/things/:id', handle: () => json({ ok: true }) },
      {
        method: 'POST',
        path: '/things/:id/touch',
        cache: { invalidates: ['things'] },
        handle: () => json({}),
      },
      {
        method: 'POST',
        path: '/things/:id/rename',
        cache: {
          invalidates: (r, res) => [
            entityTag('thing', `${r.params['id']}`),
            `status:${res.status}`,
          ],
        },
        handle: () => json({}),
      },
    ],
    steps: [
      { req: '/things/1', cache: 'MISS' },
      { req: { method: 'PATCH', url: '/things/1' }, status: 200 },
      { req: '/things/1', cache: 'HIT' },
      { req: { method: 'POST', url: '/things/1/touch' }, status: 200 },
      { req: '/things/1', cache: 'MISS' },
      { req: '/things/2', cache: 'MISS' },
      { req: { method: 'POST', url: '/things/2/rename' }, status: 200 },
      { req: '/things/2', cache: 'MISS' },
      { req: '/things/1', cache: 'HIT' },
    ],
  },
  {
    name: 'DELETE /users/7 drops /users/7 and the /users list',
    routes: () => [
      { method: 'GET', path: '/users', cache: {}, handle: () => json([{ id: 7 }, { id: 8 }]) },
      { method: 'GET', path: '/users/:id', cache: {}, handle: (r) => json({ id: r.params['id'] }) },
      { method: 'DELETE', path: '/users/:id', handle: () => ({ status: 204 }) },
    ],
    steps: [
      { req: '/users', cache: 'MISS' },
      { req: '/users/7', cache: 'MISS' },
      { req: '/users/8', cache: 'MISS' },
      { req: { method: 'DELETE', url: '/users/7' }, status: 204 },
      { req: '/users', cache: 'MISS' },
      { req: '/users/7', cache: 'MISS' },
      { req: '/users/8', cache: 'HIT' },
    ],
  },

  // ---- Concurrency and counters -----------------------------------------------------------
  {
    name: '10 concurrent identical requests run the handler once',
    routes: () => [
      {
        method: 'GET',
        path: '/slow',
        cache: {},
        handle: async () => json({ v: await gate.promise }),
      },
    ],
    steps: [
      {
        act: async ({ harness, calls }) => {
          gate = deferred<number>()
          const all = Promise.all(Array.from({ length: 10 }, () => harness.request('/slow')))
          await until(() => calls('GET /slow') === 1)
          gate.resolve(42)
          const responses = await all
          expect(calls('GET /slow')).toBe(1)
          expect(responses.map((r) => JSON.parse(r.body) as unknown)).toEqual(
            Array(10).fill({ v: 42 }),
          )
          const statuses = responses.map((r) => r.headers['x-cache']).sort()
          expect(statuses).toEqual(['MISS', ...Array<string>(9).fill('HIT')].sort())
        },
      },
    ],
  },
  {
    name: 'concurrent requests whose response cannot be shared each get their own (no cookie leaks)',
    routes: () => [
      {
        method: 'GET',
        path: '/session',
        cache: {},
        handle: async () => {
          const n = fresh()
          await gate.promise
          return { headers: { 'set-cookie': `sid=${n}` }, json: { n } }
        },
      },
    ],
    steps: [
      {
        act: async ({ harness, calls }) => {
          gate = deferred<number>()
          const all = Promise.all(Array.from({ length: 4 }, () => harness.request('/session')))
          await until(() => calls('GET /session') >= 1)
          gate.resolve(0)
          const responses = await all
          expect(calls('GET /session')).toBe(4)
          const cookies = responses.map((r) => r.headers['set-cookie'])
          expect(new Set(cookies).size).toBe(4)
          for (const r of responses) {
            expect(r.headers['x-cache']).toBe('SKIP')
            expect(r.headers['set-cookie']).toBe(`sid=${(JSON.parse(r.body) as { n: number }).n}`)
          }
        },
      },
    ],
  },
  {
    name: "HTTP hits and misses count in the cache's stats()",
    routes: () => [{ method: 'GET', path: '/c', cache: {}, handle: () => json({}) }],
    steps: [
      { act: ({ cache }) => expect(cache.stats()).toMatchObject({ hits: 0, misses: 0 }) },
      { req: '/c', cache: 'MISS' },
      { req: '/c', cache: 'HIT' },
      { req: '/c', cache: 'HIT' },
      { act: ({ cache }) => expect(cache.stats()).toMatchObject({ hits: 2, misses: 1 }) },
    ],
  },

  // ---- What is never shared, and what a client cannot force ------------------------------
  ...sharingCases,
]

let gate = deferred<number>()
