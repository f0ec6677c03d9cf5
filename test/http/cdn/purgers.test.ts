import { afterEach, describe, expect, it } from 'vitest'

import { isCacheError } from '../../../src/index.js'
import {
  cloudflarePurger,
  fastlyPurger,
  purgeTags,
  varnishPurger,
  VENDORS,
} from '../../../src/http/index.js'
import { fakeEndpoint } from './endpoint.js'

const fast = { minDelay: '1ms', maxDelay: '5ms' } as const
const many = (n: number) => Array.from({ length: n }, (_, i) => `user:${i}`)
let endpoint: Awaited<ReturnType<typeof fakeEndpoint>> | undefined
afterEach(async () => {
  await endpoint?.close()
  endpoint = undefined
})

describe('fastlyPurger', () => {
  it('POSTs surrogate_keys to /service/{id}/purge with Fastly-Key and soft purge', async () => {
    endpoint = await fakeEndpoint()
    const purger = fastlyPurger({ serviceId: 'svc 1', apiToken: 'tok', baseUrl: endpoint.url })
    await purger.purge(['user:7', 'http:/users/7/*', 'name:Ann Lee'])
    expect(endpoint.received).toHaveLength(1)
    const [req] = endpoint.received
    expect(req?.method).toBe('POST')
    expect(req?.url).toBe('/service/svc%201/purge')
    expect(req?.headers['fastly-key']).toBe('tok')
    expect(req?.headers['fastly-soft-purge']).toBe('1')
    expect(req?.headers['content-type']).toBe('application/json')
    const keys = (JSON.parse(req?.body ?? '') as { surrogate_keys: string[] }).surrogate_keys
    expect(keys.slice(0, 3)).toEqual(['user:7', 'http:/users/7/*', 'name:Ann%20Lee'])
    expect(keys.slice(3).every((k) => /^!cg-bucket-\d+$/.test(k))).toBe(true)
  })

  it('batches at most 256 keys per request and can hard purge', async () => {
    endpoint = await fakeEndpoint()
    const purger = fastlyPurger({
      serviceId: 's',
      apiToken: 't',
      baseUrl: endpoint.url,
      soft: false,
    })
    const tags = many(300)
    await purger.purge(tags)
    const sent = endpoint.received.map(
      (r) => (JSON.parse(r.body) as { surrogate_keys: string[] }).surrogate_keys,
    )
    expect(sent.map((b) => b.length)).toEqual([256, purgeTags(tags, VENDORS.fastly).length - 256])
    expect(sent.flat()).toEqual(purgeTags(tags, VENDORS.fastly))
    expect(endpoint.received[0]?.headers['fastly-soft-purge']).toBeUndefined()
  })

  it('retries 5xx and 429 with backoff, then succeeds', async () => {
    endpoint = await fakeEndpoint((_, i) => ({ status: [503, 429, 200][i] ?? 200 }))
    const purger = fastlyPurger({
      serviceId: 's',
      apiToken: 't',
      baseUrl: endpoint.url,
      retry: fast,
    })
    await purger.purge(['a'])
    expect(endpoint.received).toHaveLength(3)
  })

  it('gives up after its retries, and at once on a 4xx, with E_PURGE_FAILED', async () => {
    endpoint = await fakeEndpoint((r) => ({
      status: r.headers['fastly-key'] === 'bad' ? 403 : 500,
    }))
    const retry = { ...fast, retries: 2 }
    const down = fastlyPurger({ serviceId: 's', apiToken: 't', baseUrl: endpoint.url, retry })
    const error: unknown = await down.purge(['a']).catch((e: unknown) => e)
    expect(isCacheError(error, 'E_PURGE_FAILED')).toBe(true)
    expect(endpoint.received).toHaveLength(3)
    const denied = fastlyPurger({ serviceId: 's', apiToken: 'bad', baseUrl: endpoint.url, retry })
    await expect(denied.purge(['a'])).rejects.toMatchObject({ code: 'E_PURGE_FAILED' })
    expect(endpoint.received).toHaveLength(4)
  })

  it('retries network errors', async () => {
    const retry = { ...fast, retries: 1, timeout: '500ms' } as const
    const purger = fastlyPurger({
      serviceId: 's',
      apiToken: 't',
      baseUrl: 'http://127.0.0.1:1',
      retry,
    })
    await expect(purger.purge(['a'])).rejects.toMatchObject({ code: 'E_PURGE_FAILED' })
  })
})

describe('cloudflarePurger', () => {
  it('POSTs { tags } to /zones/{id}/purge_cache with a bearer token, 100 per request', async () => {
    endpoint = await fakeEndpoint()
    const purger = cloudflarePurger({ zoneId: 'z1', apiToken: 'cf', baseUrl: `${endpoint.url}/v4` })
    const tags = many(250)
    await purger.purge(tags)
    const expected = purgeTags(tags, VENDORS.cloudflare)
    for (const req of endpoint.received) {
      expect(req.method).toBe('POST')
      expect(req.url).toBe('/v4/zones/z1/purge_cache')
      expect(req.headers.authorization).toBe('Bearer cf')
    }
    const sent = endpoint.received.map((r) => (JSON.parse(r.body) as { tags: string[] }).tags)
    expect(sent.map((b) => b.length)).toEqual(
      [100, 100, 100, expected.length - 300].filter((n) => n > 0),
    )
    expect(sent.flat()).toEqual(expected)
  })

  it('honours a smaller batch size, and treats success: false as a failure', async () => {
    endpoint = await fakeEndpoint(() => ({ status: 200, body: '{"success":false,"errors":[]}' }))
    const purger = cloudflarePurger({
      zoneId: 'z',
      apiToken: 't',
      baseUrl: endpoint.url,
      batchSize: 30,
    })
    await expect(purger.purge(['a'])).rejects.toMatchObject({ code: 'E_PURGE_FAILED' })
    expect(endpoint.received).toHaveLength(1)
  })
})

describe('varnishPurger', () => {
  it('sends PURGE with the keys space-separated in xkey-purge, under 8 KB per request', async () => {
    endpoint = await fakeEndpoint()
    const purger = varnishPurger({ url: `${endpoint.url}/`, headers: { 'x-purge-secret': 's' } })
    const tags = many(1500)
    await purger.purge(tags)
    expect(endpoint.received.length).toBeGreaterThan(1)
    for (const req of endpoint.received) {
      expect(req.method).toBe('PURGE')
      expect(req.url).toBe('/')
      expect(req.headers['x-purge-secret']).toBe('s')
      expect(String(req.headers['xkey-purge']).length).toBeLessThanOrEqual(8_000)
    }
    const sent = endpoint.received.flatMap((r) => String(r.headers['xkey-purge']).split(' '))
    expect(sent).toEqual(purgeTags(tags, VENDORS.varnish))
  })

  it('soft purges with xkey-softpurge', async () => {
    endpoint = await fakeEndpoint()
    await varnishPurger({ url: endpoint.url, soft: true }).purge(['user:1'])
    expect(endpoint.received[0]?.headers['xkey-softpurge']).toMatch(/^user:1 !cg-bucket-\d+$/)
    expect(endpoint.received[0]?.headers['xkey-purge']).toBeUndefined()
  })
})

it('purgers check their options when created', () => {
  expect(() => fastlyPurger({ serviceId: '', apiToken: 't' })).toThrow(/serviceId/)
  expect(() => cloudflarePurger({ zoneId: 'z', apiToken: 't', batchSize: 0 })).toThrow(/batchSize/)
  expect(() => varnishPurger({ url: 'not a url' })).toThrow(/url/)
})
