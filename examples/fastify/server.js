// A product API on Fastify whose responses are cached and invalidated by its writes.
// Run: npm run build && node examples/fastify/server.js   (PORT=3000; --demo runs a walk and exits)
import { createCache } from 'cachegraph'
import { cachegraph } from 'cachegraph/fastify'
import { ANALYTICS_COOKIES } from 'cachegraph/http'
import Fastify from 'fastify'

import { db, demo, demoMode, port } from '../http-demo.js'

const cache = createCache({ ttl: '5m' })
const app = Fastify()
// Before the routes it should see. Analytics and consent cookies do not make a request personal;
// any other cookie, or Authorization, does (not cached on routes without varyBy or public).
await app.register(cachegraph, { cache, ignoredCookies: ANALYTICS_COOKIES })

app.get('/products', { config: { cache: {} } }, async () => db.list())
app.get('/products/:id', { config: { cache: { ttl: '1m' } } }, async (request, reply) => {
  const product = db.find(Number(request.params.id))
  return product ?? reply.code(404).send({ error: 'not found' })
})
// A successful write invalidates /products/:id, the /products list and product:<id>.
app.patch('/products/:id', async (request, reply) => {
  const product = db.update(Number(request.params.id), { price: request.body.price })
  return product ?? reply.code(404).send({ error: 'not found' })
})

const address = await app.listen({ host: '127.0.0.1', port })
if (demoMode) {
  await demo(address)
  await app.close()
  await cache.close()
} else {
  console.log(`listening on ${address}`)
}
