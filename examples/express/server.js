// A product API on Express whose responses are cached and invalidated by its writes.
// Run: npm run build && node examples/express/server.js   (PORT=3000; --demo runs a walk and exits)
import { createCache } from 'cachegraph'
import { cachegraph } from 'cachegraph/express'
import { ANALYTICS_COOKIES } from 'cachegraph/http'
import express from 'express'

import { db, demo, demoMode, port } from '../http-demo.js'

const cache = createCache({ ttl: '5m' })
const app = express()
// Before the routes it should see. Analytics and consent cookies do not make a request personal;
// any other cookie, or Authorization, does (not cached on routes without varyBy or public).
app.use(cachegraph({ cache, ignoredCookies: ANALYTICS_COOKIES }))
app.use(express.json())

app.get('/products', cachegraph.route(), (_req, res) => {
  res.json(db.list())
})
app.get('/products/:id', cachegraph.route({ ttl: '1m' }), (req, res) => {
  const product = db.find(Number(req.params.id))
  if (product === undefined) res.status(404).json({ error: 'not found' })
  else res.json(product)
})
// A successful write invalidates /products/:id, the /products list and product:<id>.
app.patch('/products/:id', (req, res) => {
  const product = db.update(Number(req.params.id), { price: req.body.price })
  if (product === undefined) res.status(404).json({ error: 'not found' })
  else res.json(product)
})

const server = app.listen(port, '127.0.0.1', async () => {
  const address = `http://127.0.0.1:${server.address().port}`
  if (demoMode) {
    await demo(address)
    server.close()
    await cache.close()
  } else {
    console.log(`listening on ${address}`)
  }
})
