import { connection } from 'next/server'

export default async function Price() {
  await connection() // rendered per request; the fetch comes from the cache
  const port = process.env.PORT ?? '3000'
  // Kept by cachegraph (`cacheHandler`, the fetch cache) under the tag `price`, in every instance.
  const response = await fetch(`http://127.0.0.1:${port}/api/source/price`, {
    cache: 'force-cache',
    next: { tags: ['price'] },
  })
  const { value, readAt } = await response.json()
  return (
    <main>
      <h1>Price</h1>
      <p>
        price: <output data-value={value}>{value}</output> (fetched at {readAt})
      </p>
    </main>
  )
}
