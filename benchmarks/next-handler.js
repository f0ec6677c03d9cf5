// The handlers alone, in this process: `get()` of one cached ISR page (an APP_PAGE entry of
// ~12 kB, tagged) through cachegraph's incremental handler and @fortedigital/nextjs-cache-handler
// 3.3's (redis-strings), both on the same Redis, after one `set()`. What a cached page costs
// each handler per request, without Next's own serving around it. Used by next.js; the build
// of next-app (its BUILD_ID and prerender manifest) must exist, as that handler reads them.

import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'

import { createClient } from '@redis/client'
import { CacheHandler } from '@fortedigital/nextjs-cache-handler'
import createRedisHandler from '@fortedigital/nextjs-cache-handler/redis-strings'
import { createCache } from 'cachegraph'
import { createIncrementalCacheHandler } from 'cachegraph/next'
import { redisBus, redisStore } from 'cachegraph/redis'
import { Redis } from 'ioredis'

import { median, percentile } from './lib.js'

const KEY = '/isr/1'

function page() {
  return {
    kind: 'APP_PAGE',
    html: `<!DOCTYPE html><html><body>${'<li>row of a page of a typical size</li>'.repeat(200)}</body></html>`,
    rscData: Buffer.from('0:["$","main",null,{}]\n'.repeat(180)),
    headers: { 'x-next-cache-tags': '_N_T_/layout,_N_T_/isr/[id]/page,_N_T_/isr/1,bench' },
    status: 200,
    postponed: undefined,
    segmentData: undefined,
  }
}

const setContext = {
  cacheControl: { revalidate: 3600, expire: 5400 },
  isRoutePPREnabled: false,
  isFallback: false,
}
const getContext = { kind: 'APP_PAGE', isRoutePPREnabled: false, softTags: ['_N_T_/isr/1'] }

/** µs per `get()`: `n` one after another, after a warm-up. */
async function time(handler, n) {
  for (let i = 0; i < 200; i++) await handler.get(KEY, getContext)
  const samples = []
  for (let i = 0; i < n; i++) {
    const start = performance.now()
    const hit = await handler.get(KEY, getContext)
    samples.push((performance.now() - start) * 1000)
    if (hit?.value?.kind !== 'APP_PAGE') throw new Error('not a hit')
  }
  return { getP50Us: median(samples), getP99Us: percentile(samples, 0.99), gets: n }
}

export async function measureHandlers({ redisUrl, n = 5000 }) {
  const prefix = `bench-next-handler-${randomBytes(4).toString('hex')}`
  const results = {}

  const cache = createCache({ store: redisStore({ url: redisUrl, prefix }), bus: redisBus() })
  const Cachegraph = createIncrementalCacheHandler({ cache, ack: true })
  const cachegraph = new Cachegraph({})
  await cachegraph.set(KEY, page(), setContext)
  results.cachegraph = await time(cachegraph, n)
  await cache.close()

  const client = createClient({ url: redisUrl })
  await client.connect()
  CacheHandler.onCreation(() => ({
    handlers: [createRedisHandler({ client, keyPrefix: `${prefix}-fd:` })],
  }))
  const serverDistDir = fileURLToPath(new URL('./next-app/.next/server', import.meta.url))
  const forte = new CacheHandler({ serverDistDir, dev: false })
  await forte.set(KEY, page(), setContext)
  results.fortedigital = await time(forte, n)
  await client.quit()

  const redis = new Redis(redisUrl)
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
    if (keys.length > 0) await redis.unlink(...keys)
    cursor = next
  } while (cursor !== '0')
  await redis.quit()
  return results
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(
    await measureHandlers({ redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }),
  )
}
