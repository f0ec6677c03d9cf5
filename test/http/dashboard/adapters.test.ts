import type { AddressInfo, Server } from 'node:net'

import { serve } from '@hono/node-server'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import { afterEach, describe, expect, it } from 'vitest'

import { cachegraph as expressCachegraph } from '../../../src/adapters/express.js'
import { cachegraph as fastifyCachegraph } from '../../../src/adapters/fastify.js'
import { cachegraph as honoCachegraph } from '../../../src/adapters/hono.js'
import { type Cache, memoryStore } from '../../../src/index.js'
import { createInvalidationService } from '../../../src/service/service.js'
import { listen } from '../../../src/service/server.js'
import { makeCache } from '../admin/admin-fixtures.js'

/**
 * `GET {prefix}/ui` and the event stream through every host, on a real socket: the page and its
 * files come from the package, events arrive while the stream is open (not buffered until it
 * ends), authorization applies to both, and closing the server does not wait for open streams.
 */
type Host = { url: string; close: () => Promise<void> }
type Start = (cache: Cache, allowed: boolean) => Promise<Host>

const authorize = (allowed: boolean) => () => allowed

/** A Node server once it listens; its close closes the cache first, which ends open streams. */
async function onSocket(server: Server, cache: Cache): Promise<Host> {
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await cache.close()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

const HOSTS: [name: string, start: Start][] = [
  [
    'Fastify',
    async (cache, allowed) => {
      const app = Fastify()
      await app.register(fastifyCachegraph, { cache, admin: { authorize: authorize(allowed) } })
      await app.listen({ port: 0, host: '127.0.0.1' })
      const { port } = app.server.address() as AddressInfo
      return { url: `http://127.0.0.1:${port}`, close: () => app.close() }
    },
  ],
  [
    'Express',
    async (cache, allowed) => {
      const app = express()
      app.use(expressCachegraph({ cache, admin: { authorize: authorize(allowed) } }))
      // Express has no close of its own: the cache's close ends the streams.
      return onSocket(app.listen(0, '127.0.0.1'), cache)
    },
  ],
  [
    'Hono',
    async (cache, allowed) => {
      const app = new Hono()
      app.use(honoCachegraph({ cache, admin: { authorize: authorize(allowed) } }))
      return onSocket(serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }), cache)
    },
  ],
  [
    'cachegraph serve',
    async (cache, allowed) => {
      const closing = new AbortController()
      const handler = createInvalidationService({
        cache,
        apiKeys: allowed ? [] : ['a-key-nobody-sends'],
        insecure: allowed,
        signal: closing.signal,
      })
      const server = await listen({ handler, port: 0 })
      return {
        url: server.url,
        close: async () => {
          closing.abort()
          await server.close()
        },
      }
    },
  ],
]

const hosts: Host[] = []
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((host) => host.close()))
})

describe.each(HOSTS)('dashboard through %s', (_name, start) => {
  const up = async (allowed = true) => {
    const cache = makeCache({ store: memoryStore() })
    const host = await start(cache, allowed)
    hosts.push(host)
    return { cache, url: `${host.url}/api/cache` }
  }

  it('serves the page and its files from the package', async () => {
    const { url } = await up()
    const page = await fetch(`${url}/ui`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(page.headers.get('x-frame-options')).toBe('DENY')
    const html = await page.text()
    expect(html).toContain('src="/api/cache/ui/dashboard.js"')
    expect(html).not.toMatch(/https?:\/\//) // nothing from outside the package
    for (const [file, type] of [
      ['dashboard.js', 'text/javascript'],
      ['uplot.js', 'text/javascript'],
      ['uplot.css', 'text/css'],
      ['dashboard.css', 'text/css'],
    ]) {
      const asset = await fetch(`${url}/ui/${file}`)
      expect(asset.status).toBe(200)
      expect(asset.headers.get('content-type')).toContain(type)
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(1_000)
    }
    expect((await fetch(`${url}/ui/../../package.json`)).status).toBe(404)
    expect((await fetch(`${url}/ui/nothing.js`)).status).toBe(404)
  })

  it('streams events as they happen, and its close does not wait for open streams', async () => {
    const { cache, url } = await up()
    const response = await fetch(`${url}/events`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(response.headers.get('access-control-allow-origin')).toBeNull()
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    const decoder = new TextDecoder()
    let seen = ''
    const until = async (text: string) => {
      while (!seen.includes(text)) {
        const next = await reader.read()
        if (next.done) throw new Error(`ended before ${text}`)
        seen += decoder.decode(next.value)
      }
    }
    await until('event: hello')
    await cache.invalidate('product:9')
    await until('"product:9"')
    // afterEach closes the host with this stream still open: the test's timeout bounds it.
  })

  it('answers 401 to the page and the event stream when not authorized', async () => {
    const { url } = await up(false)
    for (const path of ['/ui', '/events', '/ui/dashboard.js', '/members']) {
      const response = await fetch(`${url}${path}`)
      expect(response.status).toBe(401)
      expect(response.headers.get('content-type')).toContain('application/json')
    }
  })
})
