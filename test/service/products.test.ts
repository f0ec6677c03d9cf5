import Fastify from 'fastify'
import { afterEach, describe, expect, inject, it } from 'vitest'

import { cachegraph } from '../../src/adapters/fastify.js'
import { redisBus } from '../../src/redis/bus.js'
import { type Cache, createCache } from '../../src/index.js'
import { createInvalidationService } from '../../src/service/service.js'
import { listen, type ListeningServer } from '../../src/service/server.js'
import { redisStore } from '../../src/redis/store.js'
import { uniquePrefix } from '../helpers/tiers.js'

const open: { close(): Promise<unknown> }[] = []
afterEach(async () => {
  for (const one of open.splice(0).reverse()) await one.close()
})

describe('the seed body, end to end', () => {
  it('invalidates a cached GET /products that listed the product, in an app process', async () => {
    const prefix = uniquePrefix()
    const url = inject('redisUrl')
    // The app process: Fastify, L1 + Redis + bus.
    const appCache: Cache = createCache({ store: redisStore({ url, prefix }), bus: redisBus() })
    open.push(appCache)
    await new Promise((resolve) => appCache.on('bus:trusted', resolve))
    let price = 10
    const app = Fastify()
    await app.register(cachegraph, { cache: appCache })
    app.get('/products', { config: { cache: { ttl: '1h' } } }, async () => [
      { id: 123, name: 'lamp', price },
      { id: 124, name: 'desk', price: 99 },
    ])
    open.push(app)
    // The service, as `cachegraph serve --redis` runs it: its own cache on the same Redis.
    const central = createCache({ store: redisStore({ url, prefix }), bus: redisBus() })
    const server: ListeningServer = await listen({
      handler: createInvalidationService({ cache: central, apiKeys: ['k'] }),
      port: 0,
      onClose: () => central.close(),
    })
    open.push(server)

    const first = await app.inject('/products')
    expect(first.headers['x-cache']).toBe('MISS')
    const second = await app.inject('/products')
    expect(second.headers['x-cache']).toBe('HIT')

    price = 12
    const heard = new Promise((resolve) =>
      appCache.on(
        'bus:invalidate',
        (event) => event.tags.includes('product:123') && resolve(event),
      ),
    )
    // Exactly what cache-central-flush's flush_cache() sends (Python's json separators).
    const response = await fetch(`${server.url}/cache/invalidate`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': 'k',
        'user-agent': 'python-requests/2.31.0',
        accept: '*/*',
      },
      body: '{"entity_id": 123, "entity_type": "product"}',
    })
    expect(await response.json()).toMatchObject({ status: 'invalidated', tags: ['product:123'] })
    await heard
    const third = await app.inject('/products')
    expect(third.headers['x-cache']).toBe('MISS')
    expect(third.json()).toContainEqual({ id: 123, name: 'lamp', price: 12 })
  })
})
