// The fleet demo's writer: updates a product in the shared database, then tells the
// invalidation service, as any process without the cache engine would.
// Started by run.js with REDIS_URL, PREFIX, API_URL, API_KEY, PRODUCT_ID and PRICE.
import { createInvalidationClient } from 'cachegraph/client'
import { Redis } from 'ioredis'

import { findProduct, saveProduct } from './db.js'

const { REDIS_URL, PREFIX: prefix, API_URL: apiUrl, API_KEY: apiKey } = process.env
const id = Number(process.env.PRODUCT_ID)
const price = Number(process.env.PRICE)

const db = new Redis(REDIS_URL)
const product = await findProduct(db, prefix, id)
await saveProduct(db, prefix, { ...product, price })
db.disconnect()
console.log(`writer: product ${id} price ${product.price} -> ${price} in the database`)

const client = createInvalidationClient({ apiUrl, apiKey })
let failed = false
client.on('sent', ({ status }) => console.log(`writer: flushCache(product ${id}) -> ${status}`))
client.on('dropped', ({ reason, error }) => {
  failed = true
  console.error(`writer: invalidation dropped (${reason}) ${error?.message ?? ''}`)
})
client.flushCache({ entityId: id, entityType: 'product' })
await client.flush()
await client.close()
process.exit(failed ? 1 : 0)
