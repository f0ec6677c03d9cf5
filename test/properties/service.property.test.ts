import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { type Cache, createCache } from '../../src/index.js'
import { createInvalidationService, type InvalidationService } from '../../src/service/index.js'
import { redisStore } from '../../src/redis/store.js'
import { redisClient, uniquePrefix } from '../helpers/tiers.js'

/**
 * The invalidation service (and the admin API it mounts) driven with generated requests: any
 * method, odd paths, wrong or missing keys, bodies that are not JSON, deep, huge, or hold ids past
 * 2^53. Every request is answered — never a rejection, never a 5xx while Redis is healthy — and
 * an invalidation the service answered 200 to is in force: what depended on it is not served.
 */

const KEY = 'secret-key'
/** Fixed by default so a run repeats; `FC_SEED=<n>` explores elsewhere. */
const seed = Number(process.env.FC_SEED ?? 20_261_206)

let cache: Cache
let service: InvalidationService
const unhandled: unknown[] = []
const onUnhandled = (reason: unknown) => unhandled.push(reason)
beforeAll(() => {
  process.on('unhandledRejection', onUnhandled)
  cache = createCache({
    namespace: 'svcprop',
    store: redisStore({ client: redisClient(), prefix: uniquePrefix() }),
  })
  service = createInvalidationService({ cache, apiKeys: [KEY] })
})
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled)
  await cache.close()
})

const path = fc.oneof(
  fc.constantFrom(
    '/cache/invalidate',
    '/cache/invalidate?ack=maybe',
    '/health',
    '/metrics',
    '/api/cache/keys?pattern=[z-a]',
    '/api/cache/keys?pattern=*a*a*a*a*a*a*a*a*b&count=-5',
    '/api/cache/keys/%ZZ',
    '/api/cache/keys/a%2Fb?namespace=../..',
    '/api/cache/clear?pattern=[',
    '/api/cache/invalidate',
    '/api/cache/tags/%00',
    '/api/cache/stats',
    '//cache//invalidate',
    '/cache/invalidate/../health',
  ),
  fc.webPath(),
  fc.integer({ min: 1, max: 20_000 }).map((n) => `/${'a/'.repeat(n)}`),
)

/** Raw JSON text: valid values, odd shapes, numbers past 2^53, and text that is not JSON. */
const bigId = fc.bigInt({ min: 2n ** 53n, max: 2n ** 70n })
/** A body's raw text, and the entity tag it must invalidate exactly when it holds one. */
interface Body {
  text: string
  entity?: string
}
const raw = (arbitrary: fc.Arbitrary<string>): fc.Arbitrary<Body> =>
  arbitrary.map((text) => ({ text }))
const body: fc.Arbitrary<Body> = fc.oneof(
  raw(fc.jsonValue().map((v) => JSON.stringify(v))),
  raw(fc.record({ tags: fc.array(fc.string(), { maxLength: 5 }) }).map((v) => JSON.stringify(v))),
  bigId.map((id) => ({
    text: `{"entity_type":"product","entity_id":${id}}`,
    entity: `product:${id}`,
  })),
  bigId.map((id) => ({
    text: `[{"entity_type":"p","entity_id":${id}},{"tags":["x"]}]`,
    entity: `p:${id}`,
  })),
  raw(
    fc
      .integer({ min: 1, max: 150_000 })
      .map((n) => JSON.stringify({ tags: Array.from({ length: n }, (_, i) => `t${i}`) })),
  ),
  raw(fc.integer({ min: 1, max: 20_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`)),
  raw(fc.integer({ min: 1, max: 20_000 }).map((n) => `{"tags":${'['.repeat(n)}`)),
  raw(fc.string({ unit: 'binary', maxLength: 200 })),
  raw(
    fc.constantFrom('', 'null', '{"tags":null}', '{"entity_id":1}', '{"tags":[""]}', '1e999', '-0'),
  ),
)
/** Any request at all. */
const anyRequest = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'),
  path,
  key: fc.constantFrom(KEY, 'wrong', '', undefined),
  contentType: fc.constantFrom(
    'application/json',
    'text/plain',
    'application/json; charset=utf-8',
    undefined,
  ),
  body,
})
/** A well-addressed invalidation: the body alone is hostile. */
const invalidation = body.map((b) => ({
  method: 'POST',
  path: '/cache/invalidate',
  key: KEY,
  contentType: 'application/json',
  body: b,
}))
const request = fc.oneof(
  { weight: 3, arbitrary: invalidation },
  { weight: 2, arbitrary: anyRequest },
)

describe('the invalidation service under generated requests', () => {
  it('answers every request with a status below 500, and a 200 invalidation is in force', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const canary = `canary:${Math.random()}`
        await cache.set(canary, 'old', { tags: ['product:9007199254740993', 't0', 'x'] })
        const headers = new Headers()
        if (r.key !== undefined) headers.set('x-api-key', r.key)
        if (r.contentType !== undefined) headers.set('content-type', r.contentType)
        const withBody = !['GET', 'HEAD'].includes(r.method)
        const response = await service(
          new Request(`http://127.0.0.1${r.path}`, {
            method: r.method,
            headers,
            ...(withBody ? { body: r.body.text } : {}),
          }),
        )
        expect(response.status, `${r.method} ${r.path.slice(0, 80)}`).toBeLessThan(500)
        const text = await response.text()
        if (response.status === 200 && r.path === '/cache/invalidate' && r.method === 'POST') {
          const answer = JSON.parse(text) as { tags: string[] }
          // An id is taken exactly as sent, never as a rounded float.
          if (r.body.entity !== undefined) expect(answer.tags).toContain(r.body.entity)
          if (answer.tags.some((tag) => ['product:9007199254740993', 't0', 'x'].includes(tag))) {
            expect(await cache.get(canary)).toBeUndefined()
          }
        }
        expect(unhandled).toEqual([])
      }),
      { numRuns: 150, seed },
    )
  })

  it('an id past 2^53 invalidates exactly its own entity', async () => {
    const exact = 'product:12345678901234567890'
    const rounded = `product:${String(Number('12345678901234567890'))}`
    await cache.set('exact', 'v', { tags: [exact] })
    await cache.set('rounded', 'v', { tags: [rounded] })
    const response = await service(
      new Request('http://127.0.0.1/cache/invalidate', {
        method: 'POST',
        headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
        body: '{"entity_type":"product","entity_id":12345678901234567890}',
      }),
    )
    expect(response.status).toBe(200)
    expect(((await response.json()) as { tags: string[] }).tags).toEqual([exact])
    expect(await cache.get('exact')).toBeUndefined()
    expect(await cache.get('rounded')).toBe('v')
  })
})
