// Shared by the framework examples: their in-memory data and the `--demo` walk through them.

/** The examples' data source: products in memory, and how often they were read. */
export const db = {
  products: new Map([
    [1, { id: 1, name: 'Teapot', price: 10 }],
    [2, { id: 2, name: 'Kettle', price: 25 }],
  ]),
  reads: 0,
  list() {
    this.reads++
    return [...this.products.values()]
  },
  find(id) {
    this.reads++
    return this.products.get(id)
  },
  update(id, changes) {
    const product = this.products.get(id)
    if (product === undefined) return undefined
    Object.assign(product, changes)
    return product
  },
}

/** The port to listen on: `PORT`, else 3000; 0 (any free port) with `--demo`. */
export const demoMode = process.argv.includes('--demo')
export const port = demoMode ? 0 : Number(process.env.PORT ?? 3000)

/** MISS → HIT → write → MISS against a running server, printing what `X-Cache` said. */
export async function demo(baseUrl) {
  const get = async () => {
    const res = await fetch(`${baseUrl}/products/1`)
    const product = await res.json()
    console.log(`GET   /products/1 -> ${res.headers.get('x-cache')} (price ${product.price})`)
  }
  await get()
  await get()
  const res = await fetch(`${baseUrl}/products/1`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ price: 12 }),
  })
  console.log(`PATCH /products/1 -> ${res.status}`)
  await get()
  console.log(`db reads: ${db.reads}`)
}
