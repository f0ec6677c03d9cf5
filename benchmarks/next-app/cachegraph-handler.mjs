// cachegraph as docs/next.md sets it up: L1 in front of Redis, the Redis bus, ack.
import { createCache } from 'cachegraph'
import { createIncrementalCacheHandler } from 'cachegraph/next'
import { redisBus, redisStore } from 'cachegraph/redis'

const prefix = process.env.BENCH_PREFIX ?? 'cgbench-next'
const cache =
  process.env.NEXT_PHASE === 'phase-production-build'
    ? createCache()
    : createCache({
        store: redisStore({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix }),
        bus: redisBus(),
      })

export default createIncrementalCacheHandler({ cache, ack: true })
