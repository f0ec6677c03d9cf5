import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'

import { afterEach, describe, expect, it } from 'vitest'

import { createAdminHandler } from '../../../src/http/admin/index.js'
import { ADMIN_TIERS, makeCache, parseMetrics } from './admin-fixtures.js'

/** IncomingMessage → fetch Request (the body streamed, not buffered). */
function toRequest(req: IncomingMessage): Request {
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one)
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD'
  const init: RequestInit & { duplex: 'half' } = {
    method: req.method ?? 'GET',
    headers,
    body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : null,
    duplex: 'half',
  }
  return new Request(`http://${req.headers.host ?? '127.0.0.1'}${req.url ?? '/'}`, init)
}

/**
 * Response → ServerResponse. A body the handler did not read to the end (a 413) leaves the
 * connection unusable for the next request: close it.
 */
async function send(response: Response, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!req.complete) res.setHeader('connection', 'close')
  res.writeHead(response.status, Object.fromEntries(response.headers))
  res.end(Buffer.from(await response.arrayBuffer()))
}

const servers: Server[] = []
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))),
  )
})

/** A node:http server on 127.0.0.1: the admin API, else the host's own 404. */
async function listen(handler: (request: Request) => Promise<Response | undefined>) {
  const server = createServer((req, res) => {
    handler(toRequest(req))
      .then((response) => send(response ?? new Response('host 404', { status: 404 }), req, res))
      .catch(() => {
        res.statusCode = 599
        res.end()
      })
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

describe.each(ADMIN_TIERS)('admin API on a listening node:http server (%s)', (_name, tiers) => {
  it('serves every kind of route over real HTTP', async () => {
    const cache = makeCache(tiers())
    await cache.set('user:42', { id: 42 }, { tags: ['user:42'] })
    const handler = createAdminHandler({
      cache,
      authorize: (req) => req.headers.get('x-admin-key') === 'k3y',
    })
    const base = await listen(handler)
    const auth = { 'x-admin-key': 'k3y' }

    expect((await fetch(`${base}/api/cache/stats`)).status).toBe(401)
    const host = await fetch(`${base}/not-admin`, { headers: auth })
    expect(host.status).toBe(404)
    expect(await host.text()).toBe('host 404')

    const inspected = await fetch(`${base}/api/cache/keys/user%3A42`, { headers: auth })
    expect(inspected.status).toBe(200)
    expect(inspected.headers.get('cache-control')).toBe('no-store')
    expect(await inspected.json()).toMatchObject({ key: 'user:42', tags: ['user:42'] })

    const invalidated = await fetch(`${base}/api/cache/invalidate`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ entity_type: 'user', entity_id: 42 }),
    })
    expect(invalidated.status).toBe(200)
    expect(await invalidated.json()).toMatchObject({ status: 'invalidated', tags: ['user:42'] })
    expect(await cache.get('user:42')).toBeUndefined()

    const tooBig = await fetch(`${base}/api/cache/invalidate`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ tags: ['x'.repeat(2 * 1_048_576)] }),
    })
    expect(tooBig.status).toBe(413)

    const wrongMethod = await fetch(`${base}/api/cache/clear`, { headers: auth })
    expect(wrongMethod.status).toBe(405)
    expect(wrongMethod.headers.get('allow')).toBe('POST')

    const metrics = await fetch(`${base}/api/cache/metrics`, { headers: auth })
    expect(metrics.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
    expect(parseMetrics(await metrics.text()).get('cachegraph_sets_total')).toBe(1)
  })
})
