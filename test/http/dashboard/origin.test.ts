import { describe, expect, it } from 'vitest'

import { createAdminHandler } from '../../../src/http/index.js'
import { memoryStore } from '../../../src/index.js'
import { createInvalidationService } from '../../../src/service/service.js'
import { makeCache, ORIGIN, request } from '../admin/admin-fixtures.js'

/**
 * A browser drives the admin API now, so a page on another origin must not be able to change
 * anything through it with the admin's cookies or credentials (SPEC §11).
 */
describe('admin API: cross-site requests', () => {
  const setup = (origins?: string[]) => {
    const cache = makeCache({ store: memoryStore() })
    return {
      cache,
      admin: createAdminHandler({ cache, insecure: true, ...(origins ? { origins } : {}) }),
    }
  }

  it('refuses a state-changing request from another origin (403), and changes nothing', async () => {
    const { cache, admin } = setup()
    await cache.set('k', 1, { tags: ['t'] })
    for (const origin of ['https://evil.example', 'http://admin.test.evil.example', 'null']) {
      const invalidate = await admin(
        request('POST', '/api/cache/invalidate', { json: { tags: ['t'] }, headers: { origin } }),
      )
      expect(invalidate?.status).toBe(403)
      const remove = await admin(request('DELETE', '/api/cache/keys/k', { headers: { origin } }))
      expect(remove?.status).toBe(403)
      const clear = await admin(request('POST', '/api/cache/clear', { headers: { origin } }))
      expect(clear?.status).toBe(403)
    }
    expect(await cache.get('k')).toBe(1)
  })

  it("accepts the API's own origin (any scheme: a TLS proxy in front), a listed one, and none", async () => {
    const { cache, admin } = setup(['https://ops.example.com'])
    const tags = { json: { tags: ['t'] } }
    for (const headers of <Record<string, string>[]>[
      { origin: ORIGIN },
      { origin: ORIGIN.replace('http:', 'https:') },
      { origin: 'https://ops.example.com' },
      {},
    ]) {
      await cache.set('k', 1, { tags: ['t'] })
      expect(
        (await admin(request('POST', '/api/cache/invalidate', { ...tags, headers })))?.status,
      ).toBe(200)
      expect(await cache.get('k')).toBeUndefined()
    }
  })

  it('refuses a state-changing body that is not JSON (415), with or without Origin', async () => {
    const { admin } = setup()
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      for (const origin of <Record<string, string>[]>[{ origin: ORIGIN }, {}]) {
        const response = await admin(
          request('POST', '/api/cache/clear', {
            body: 'tags=t',
            headers: { 'content-type': type, ...origin },
          }),
        )
        expect(response?.status).toBe(415)
      }
    }
    // Reads are not affected by either rule.
    const read = await admin(
      request('GET', '/api/cache/stats', { headers: { origin: 'https://evil.example' } }),
    )
    expect(read?.status).toBe(200)
  })

  it('sends no CORS header on any route, the page and the event stream included', async () => {
    const { admin } = setup()
    const paths = [
      '/stats',
      '/keys',
      '/ui',
      '/ui/dashboard.js',
      '/ui/uplot.js',
      '/members',
      '/health',
    ]
    const headers = { origin: 'https://evil.example' }
    const answers = await Promise.all(
      paths.map((path) => admin(request('GET', `/api/cache${path}`, { headers }))),
    )
    const preflight = await admin(
      request('OPTIONS', '/api/cache/invalidate', {
        headers: { ...headers, 'access-control-request-method': 'POST' },
      }),
    )
    const events = await admin(request('GET', '/api/cache/events', { headers }))
    for (const answer of [...answers, preflight, events]) {
      expect(answer?.status).not.toBe(204)
      for (const [name] of answer?.headers ?? []) expect(name).not.toMatch(/^access-control-/)
    }
    expect(preflight?.status).toBe(405)
    expect(events?.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    await events?.body?.cancel()
  })

  it('refuses an origins option that is not a list of origins', () => {
    const cache = makeCache()
    for (const origins of [
      ['https://ops.example.com/'],
      ['ops.example.com'],
      'https://x.example',
      ['null'],
    ]) {
      expect(() =>
        createAdminHandler({ cache, insecure: true, origins: origins as string[] }),
      ).toThrow(/admin\.origins/)
    }
  })
})

describe('invalidation service: browsers', () => {
  const KEY = 'service-key'
  const basic = (password: string) =>
    `Basic ${Buffer.from(`anyone:${password}`).toString('base64')}`

  it('asks a browser for the key with Basic authentication and accepts it there', async () => {
    const service = createInvalidationService({ cache: makeCache(), apiKeys: [KEY] })
    const refused = await service(request('GET', '/api/cache/ui'))
    expect(refused.status).toBe(401)
    expect(refused.headers.get('www-authenticate')).toMatch(/Basic realm="cachegraph"/)
    const wrong = await service(
      request('GET', '/api/cache/events', { headers: { authorization: basic('nope') } }),
    )
    expect(wrong.status).toBe(401)
    const page = await service(
      request('GET', '/api/cache/ui', { headers: { authorization: basic(KEY) } }),
    )
    expect(page.status).toBe(200)
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'")
  })

  it('refuses cross-site invalidations on its own route too', async () => {
    const service = createInvalidationService({ cache: makeCache(), apiKeys: [KEY] })
    const init = {
      json: { tags: ['t'] },
      headers: { authorization: basic(KEY), origin: 'https://evil.example' },
    }
    expect((await service(request('POST', '/cache/invalidate', init))).status).toBe(403)
    const own = { ...init, headers: { ...init.headers, origin: ORIGIN } }
    expect((await service(request('POST', '/cache/invalidate', own))).status).toBe(200)
  })
})
