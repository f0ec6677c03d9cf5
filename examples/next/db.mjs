// The example's "database": named values in Redis, shared by both instances, and a count of
// reads, so a page shows when it was rendered from the database rather than from the cache.
import { Redis } from 'ioredis'

const key = Symbol.for('cachegraph.examples.next.db')
const prefix = () => `${process.env.CACHEGRAPH_PREFIX ?? 'cgnext'}:db`

// Connected on first use: `next build` imports the pages without reading them.
function client() {
  return (globalThis[key] ??= new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'))
}

export async function read(name) {
  const [value] = await Promise.all([
    client().get(`${prefix()}:${name}`),
    client().incr(`${prefix()}:reads`),
  ])
  return value ?? 'v0'
}

export async function write(name, value) {
  await client().set(`${prefix()}:${name}`, value)
}
