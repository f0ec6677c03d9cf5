// A product API on Hono (on Node via @hono/node-server) whose responses are cached and
// invalidated by its writes.
// Run: npm run build && node examples/hono/server.js   (PORT=3000; --demo runs a walk and exits)
import { serve } from '@hono/node-server'
import { createCache } from 'cachegraph'
import { cachegraph } from 'cachegraph/hono'
import { ANALYTICS_COOKIES } from 'cachegraph/http'
import { Hono } from 'hono'

import { db, demo, demoMode, port } from '../http-demo.js'

const cache = createCache({ ttl: '5m' })
const app = new Hono()
// Before the routes it should see. Analytics and consent cookies do not make a request personal;
// any other cookie, or Authorization, does (not cached on routes without varyBy or public).
// Behind a proxy that sets X-Forwarded-Host, add trustProxy: true.
app.use(cachegraph({ cache, ignoredCookies: ANALYTICS_COOKIES }))

app.get('/products', cachegraph.route(), (c) => c.json(db.list()))
app.get('/products/:id', cachegraph.route({ ttl: '1m' }), (c) => {
  const product = db.find(Number(c.req.param('id')))
  return product === undefined ? c.json({ error: 'not found' }, 404) : c.json(product)
})
// A successful write invalidates /products/:id, the /products list and product:<id>.
app.patch('/products/:id', async (c) => {
  const { price } = await c.req.json()
  const product = db.update(Number(c.req.param('id')), { price })
  return product === undefined ? c.json({ error: 'not found' }, 404) : c.json(product)
})

const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port }, async (info) => {
  const address = `http://127.0.0.1:${info.port}`
  if (demoMode) {
    await demo(address)
    server.close()
    await cache.close()
  } else {
    console.log(`listening on ${address}`)
  }
})
