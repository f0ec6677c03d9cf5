// The fleet demo's shared "database": products as JSON strings in Redis, under the demo's prefix
// (`<prefix>-db:product:<id>`), so both apps and the writer see the same rows.

/** The Redis key of product `id`. */
export const productKey = (prefix, id) => `${prefix}-db:product:${id}`

/** The ids of every product, in a set. */
export const idsKey = (prefix) => `${prefix}-db:product-ids`

export async function findProduct(redis, prefix, id) {
  const json = await redis.get(productKey(prefix, id))
  return json === null ? undefined : JSON.parse(json)
}

export async function listProducts(redis, prefix) {
  const ids = (await redis.smembers(idsKey(prefix))).sort((a, b) => Number(a) - Number(b))
  if (ids.length === 0) return []
  const rows = await redis.mget(ids.map((id) => productKey(prefix, id)))
  return rows.filter((json) => json !== null).map((json) => JSON.parse(json))
}

export async function saveProduct(redis, prefix, product) {
  await redis
    .multi()
    .set(productKey(prefix, product.id), JSON.stringify(product))
    .sadd(idsKey(prefix), String(product.id))
    .exec()
}
