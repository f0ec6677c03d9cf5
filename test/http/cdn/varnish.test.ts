import Fastify from 'fastify'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { cachegraph } from '../../../src/adapters/fastify.js'
import { varnishPurger } from '../../../src/http/index.js'
import { createCache } from '../../../src/index.js'
import { hasVarnish, startVarnish } from './varnish-server.js'

describe.skipIf(!hasVarnish)(
  'a real Varnish with the xkey vmod (skipped when varnishd or varnish-modules is not installed)',
  () => {
    const cache = createCache({ ttl: '5m' })
    const app = Fastify()
    const items = new Map([['1', 'first']])
    let calls = 0
    let varnish: Awaited<ReturnType<typeof startVarnish>>

    beforeAll(async () => {
      await app.register(cachegraph, {
        cache,
        cdn: {
          vendor: 'varnish',
          // Set below, once Varnish's port is known.
          purger: { vendor: 'varnish', purge: (tags) => purge(tags) },
          awaitPurge: true,
          maxSilence: '100ms',
        },
      })
      app.get('/items/:id', { config: { cache: { ttl: '1m' } } }, async (req) => {
        calls++
        const id = (req.params as { id: string }).id
        return { id: Number(id), name: items.get(id) }
      })
      app.patch('/items/:id', async (req) => {
        const id = (req.params as { id: string }).id
        items.set(id, (req.body as { name: string }).name)
        return { id: Number(id) }
      })
      await app.listen({ port: 0, host: '127.0.0.1' })
      varnish = await startVarnish((app.server.address() as AddressInfo).port)
      const purger = varnishPurger({ url: `${varnish.url}/` })
      purge = (tags) => purger.purge(tags)
    }, 30_000)

    let purge: (tags: readonly string[]) => Promise<void> = async () => {}

    afterAll(async () => {
      await varnish?.stop()
      await app.close()
      await cache.close()
    })

    it('serves from the edge, then the new body right after a write', async () => {
      const first = await fetch(`${varnish.url}/items/1`)
      expect(await first.json()).toEqual({ id: 1, name: 'first' })
      expect(first.headers.get('xkey')).toBeNull() // unset for clients by the VCL
      const again = await fetch(`${varnish.url}/items/1`)
      expect(await again.json()).toEqual({ id: 1, name: 'first' })
      // Served by Varnish: the origin ran once, and Varnish says it is a hit (two XIDs).
      expect(calls).toBe(1)
      expect(again.headers.get('x-varnish')).toMatch(/^\d+ \d+$/)

      const write = await fetch(`${varnish.url}/items/1`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'second' }),
      })
      expect(write.status).toBe(200)
      const after = await fetch(`${varnish.url}/items/1`)
      expect(await after.json()).toEqual({ id: 1, name: 'second' })
      expect(calls).toBe(2)
    })
  },
)
