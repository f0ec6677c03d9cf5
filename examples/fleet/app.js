// One app process of the fleet demo: Fastify + cachegraph, L1 in front of a shared Redis tier,
// with the Redis bus so invalidations made elsewhere (the invalidation service) reach its L1.
// Started by run.js with REDIS_URL, PREFIX, PORT and NAME in its environment.
import { createCache } from 'cachegraph'
import { cachegraph } from 'cachegraph/fastify'
import { redisBus, redisStore } from 'cachegraph/redis'
import Fastify from 'fastify'
import { Redis } from 'ioredis'

import { findProduct, listProducts } from './db.js'

const { REDIS_URL: url, PREFIX: prefix, PORT: port, NAME: name = 'app' } = process.env

const db = new Redis(url) // the "database"
const store = redisStore({ url, prefix })
const cache = createCache({
  namespace: prefix, // the same as the service's --namespace
  ttl: '5m',
  l1: { maxEntries: 1000 },
  store,
  bus: redisBus(),
})
const app = Fastify()
await app.register(cachegraph, {
  cache,
  // The admin API and its dashboard at /api/cache/ui. This app listens on 127.0.0.1 only, so
  // letting local requests in is enough for the demo; a real app checks its own session here.
  admin: { authorize: (request) => request.ip === '127.0.0.1' },
})

// Responses are tagged with the products they contain (`product:<id>`), so invalidating
// product:1 — what the writer's flushCache({ entityId: 1, entityType: 'product' }) does —
// drops /products/1 and the /products list, in every app of the fleet.
app.get('/products', { config: { cache: { entity: 'product' } } }, async () =>
  listProducts(db, prefix),
)
app.get('/products/:id', { config: { cache: { entity: 'product' } } }, async (request, reply) => {
  const product = await findProduct(db, prefix, request.params.id)
  return product ?? reply.code(404).send({ error: 'not found' })
})

const address = await app.listen({ host: '127.0.0.1', port: Number(port) })
console.log(`${name} listening on ${address}`)

process.once('SIGTERM', async () => {
  await app.close()
  await cache.close()
  db.disconnect()
  process.exit(0)
})
