// The one cachegraph cache of this Next.js process, shared by both handlers: L1 in front of Redis,
// with the Redis bus so a revalidation made by any instance reaches every instance.
// REDIS_URL (default redis://127.0.0.1:6379), CACHEGRAPH_PREFIX (default cgnext) and
// CACHEGRAPH_ACK=1 (revalidations resolve once every instance applied them) configure it.
import { createCache } from 'cachegraph'
import { redisBus, redisStore } from 'cachegraph/redis'

const key = Symbol.for('cachegraph.examples.next.cache')

function create() {
  // `next build` renders with a cache of its own: the build needs no Redis and leaves nothing in it.
  if (process.env.NEXT_PHASE === 'phase-production-build') return createCache()
  return createCache({
    store: redisStore({
      url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      prefix: process.env.CACHEGRAPH_PREFIX ?? 'cgnext',
    }),
    bus: redisBus(),
  })
}

// Next may load the two handler files separately; both get the same cache.
export const cache = (globalThis[key] ??= create())
export const ack = process.env.CACHEGRAPH_ACK === '1'
