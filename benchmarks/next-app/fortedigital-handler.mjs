// @fortedigital/nextjs-cache-handler 3.3 as its README's production set-up: one node-redis
// client per process (global scope), the redis-strings handler, nothing in Redis during the build.
import { createClient } from '@redis/client'
import { CacheHandler } from '@fortedigital/nextjs-cache-handler'
import createLruHandler from '@fortedigital/nextjs-cache-handler/local-lru'
import createRedisHandler from '@fortedigital/nextjs-cache-handler/redis-strings'

CacheHandler.onCreation(() => {
  if (globalThis.cacheHandlerConfig) return globalThis.cacheHandlerConfig
  if (globalThis.cacheHandlerConfigPromise) return globalThis.cacheHandlerConfigPromise
  if (process.env.NEXT_PHASE === 'phase-production-build') {
    return { handlers: [createLruHandler()] }
  }
  globalThis.cacheHandlerConfigPromise = (async () => {
    const client = createClient({
      url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      pingInterval: 10000,
    })
    client.on('error', () => {})
    await client.connect()
    globalThis.cacheHandlerConfig = {
      handlers: [
        createRedisHandler({ client, keyPrefix: `${process.env.BENCH_PREFIX ?? 'fdbench'}:` }),
      ],
    }
    globalThis.cacheHandlerConfigPromise = null
    return globalThis.cacheHandlerConfig
  })()
  return globalThis.cacheHandlerConfigPromise
})

export default CacheHandler
