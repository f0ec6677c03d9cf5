import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'

import type { CacheEvents } from '../../src/cache/events.js'
import { isCacheError } from '../../src/index.js'
import { until } from '../helpers/deferred.js'
import { type OwnRedis, startRedis } from '../helpers/redis-server.js'
import { proxyTo, type TcpProxy } from '../helpers/tcp-proxy.js'
import { redisClient, uniquePrefix } from '../helpers/tiers.js'
import { outageCache } from '../helpers/outage-caches.js'

/**
 * Outages of the shared tier. A process reaches Redis through a TCP proxy that can stall (a
 * Redis that accepts connections and never answers) or through a redis-server of the test's own
 * that is killed and restarted; the machine's shared Redis itself is never disturbed.
 */
const make = outageCache

/** Runs `read` and returns how long it took, in ms. */
async function timed<T>(read: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now()
  const value = await read()
  return [value, performance.now() - t0]
}

describe('a Redis that accepts connections and never answers', () => {
  let proxy: TcpProxy
  beforeAll(async () => {
    proxy = await proxyTo(inject('redisUrl'))
  })
  afterAll(() => proxy.close())

  it('reads go to loaders within the time limit, the circuit opens, nothing throws', async () => {
    const prefix = uniquePrefix()
    const cache = make(proxy.url, prefix, { breaker: { failures: 3, cooldown: '10m' } })
    const circuit: CacheEvents['store:circuit'][] = []
    cache.on('store:circuit', (event) => circuit.push(event))
    await cache.set('k', 'cached')
    proxy.stall()
    try {
      const latencies: number[] = []
      for (let i = 0; i < 10; i++) {
        const [value, ms] = await timed(() => cache.getOrSet(`miss:${i}`, () => `loaded ${i}`))
        expect(value).toBe(`loaded ${i}`)
        latencies.push(ms)
      }
      // The 50 ms read limit (give or take the 5 ms deadline check), then no wait at all.
      expect(Math.max(...latencies.slice(0, 3))).toBeLessThan(500)
      expect(circuit.map((e) => e.state)).toEqual(['open'])
      expect(cache.stats().l2.circuit).toBe('open')
      expect(Math.max(...latencies.slice(3))).toBeLessThan(20)
      expect(await cache.get('never-cached')).toBeUndefined()
    } finally {
      proxy.resume()
    }
  })

  it('strict readers see the failure instead', async () => {
    const cache = make(proxy.url, uniquePrefix(), { strict: true, l1: false })
    await cache.set('k', 1)
    proxy.stall()
    try {
      const error = await cache.get('k').catch((e: unknown) => e)
      expect(isCacheError(error, 'E_TIMEOUT')).toBe(true)
    } finally {
      proxy.resume()
    }
  })

  it('an invalidation it could not record is queued, sent first on recovery, and never lost', async () => {
    const prefix = uniquePrefix()
    const writer = make(proxy.url, prefix, { breaker: { failures: 1, cooldown: '50ms' } })
    const reader = make(inject('redisUrl'), prefix, { l1: false }) // another process, unaffected
    await writer.set('k', 'old', { tags: ['t'] })
    expect(await writer.get('k')).toBe('old')
    proxy.stall()
    try {
      const error = await writer.invalidate('t').catch((e: unknown) => e)
      expect(isCacheError(error, 'E_INVALIDATION_NOT_RECORDED')).toBe(true)
      expect(writer.stats().l2.replayQueue).toBe(1)
      // Applied here at once: this process never serves the old value again.
      expect(await writer.get('k')).toBeUndefined()
    } finally {
      // The stalled bytes are dropped with the connection: Redis must learn it from the queue.
      proxy.cut()
      proxy.resume()
    }
    await new Promise((resolve) => setTimeout(resolve, 60)) // past the cooldown
    // The next store call of the writer replays the queue before anything else.
    expect(await writer.getOrSet('other', () => 'x')).toBe('x')
    await until(() => writer.stats().l2.replayQueue === 0, 5_000)
    expect(await reader.get('k')).toBeUndefined()
    expect(writer.stats().l2.circuit).toBe('closed')
  })
})

describe('a Redis that is killed and comes back empty', () => {
  let server: OwnRedis
  beforeAll(async () => {
    server = await startRedis()
  })
  afterAll(() => server.kill())

  it('degrades to loaders while down; after the restart nothing invalidated is revived', async () => {
    const prefix = uniquePrefix()
    const a = make(server.url, prefix)
    const b = make(server.url, prefix, { l1: false })
    const resets: unknown[] = []
    a.on('store:reset', (event) => resets.push(event))
    await a.set('k', 'v1', { tags: ['t'] })
    expect(await a.get('k')).toBe('v1')
    await b.invalidate('t') // a has no bus: its L1 has not heard of it
    await server.kill()
    const [value, ms] = await timed(() => a.getOrSet('during', () => 'from the loader'))
    expect(value).toBe('from the loader')
    expect(ms).toBeLessThan(1_000)
    await server.restart()
    await until(async () => (await a.get('probe'), resets.length === 1), 10_000)
    expect(await a.get('k')).toBeUndefined()
    expect(await b.get('k')).toBeUndefined()
  })
})

describe('the replay queue is bounded', () => {
  it('past maxReplayTags it collapses into one invalidation of the whole cache', async () => {
    const prefix = uniquePrefix()
    const proxy = await proxyTo(inject('redisUrl'))
    try {
      const writer = make(proxy.url, prefix, {
        maxReplayTags: 3,
        breaker: false,
        storeTimeout: { invalidate: '30ms' },
      })
      const reader = make(inject('redisUrl'), prefix, { l1: false })
      await writer.set('a', 1, { tags: ['ta'] })
      await writer.set('untouched', 2, { tags: ['tz'] })
      const errors: unknown[] = []
      writer.on('error', ({ error }) => errors.push(error))
      proxy.stall()
      for (const tag of ['t1', 't2', 't3', 't4']) await writer.invalidate(tag).catch(() => {})
      expect(writer.stats().l2.replayQueue).toBe(1)
      expect(errors.some((e) => isCacheError(e, 'E_INVALIDATION_NOT_RECORDED'))).toBe(true)
      proxy.cut()
      proxy.resume()
      await until(async () => (await writer.get('x'), writer.stats().l2.replayQueue === 0), 5_000)
      // Coarser than the lost tags, never weaker: everything of the cache was invalidated.
      expect(await reader.get('untouched')).toBeUndefined()
    } finally {
      await proxy.close()
    }
  })
})

// The machine's Redis answers untouched meanwhile.
it('the shared Redis was never disturbed', async () => {
  expect(await redisClient().ping()).toBe('PONG')
})
