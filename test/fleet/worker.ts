/**
 * One process of a test fleet: a cache on the shared Redis with a bus, driven over IPC by
 * test/fleet/fleet.ts. Each request is `{ id, op, args }`; each answer `{ id, result }` or
 * `{ id, error }`; cache events travel as `{ event, payload }`.
 */
import { Redis } from 'ioredis'

import { createCache } from '../../src/index.js'
import { redisBus } from '../../src/redis/bus.js'
import { redisStore } from '../../src/redis/store.js'

const [url, prefix, maxSilence] = process.argv.slice(2) as [string, string, string]
const bus = redisBus({ maxSilence: Number(maxSilence) })
const cache = createCache({ store: redisStore({ url, prefix }), bus })
const send = (message: unknown) => process.send?.(message)

for (const event of ['bus:trusted', 'bus:distrusted', 'bus:sync', 'store:reset'] as const) {
  cache.on(event, (payload) => send({ event, payload }))
}

let loads = 0
const counter = new Redis(url)
const ops: Record<string, (...args: never[]) => unknown> = {
  /** A read-through whose loader returns `<pid>:<n>`, so callers see which load they got. */
  getOrSet: (key: string, tags: string[]) =>
    cache.getOrSet(key, () => `${process.pid}:${++loads}`, { tags }),
  get: (key: string) => cache.get(key),
  /** `lock: true`: counts its loader runs in Redis (`counterKey`), each taking `ms`. */
  lockedLoad: (key: string, counterKey: string, ms: number) =>
    cache.getOrSet(
      key,
      async () => {
        await counter.incr(counterKey)
        await new Promise((resolve) => setTimeout(resolve, ms))
        return `${process.pid}:${++loads}`
      },
      { lock: true, tags: ['t'] },
    ),
  invalidate: (tags: string[]) => cache.invalidate(tags),
  stats: () => cache.stats(),
  clientName: () => bus.clientName,
  /** Resolves once every invalidation up to `seq` has been applied here (or after 5 s). */
  applied: async (seq: number) => {
    const until = Date.now() + 5_000
    while ((cache.stats().bus?.seq ?? 0) < seq && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
    return cache.stats().bus?.seq ?? 0
  },
}

process.on('message', (request: { id: number; op: string; args: never[] }) => {
  const op = ops[request.op]
  Promise.resolve()
    .then(() => {
      if (op === undefined) throw new Error(`unknown op ${request.op}`)
      return op(...request.args)
    })
    .then(
      (result) => send({ id: request.id, result }),
      (error: unknown) => send({ id: request.id, error: String(error) }),
    )
})

process.on('disconnect', () => {
  counter.disconnect()
  void cache.close().finally(() => process.exit(0))
})
cache.on('bus:trusted', () => send({ ready: true }))
