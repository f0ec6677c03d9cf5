import { afterEach, describe, expect, it } from 'vitest'

import type { Cache } from '../../src/cache/cache.js'
import { createCache, memoryStore, type Store } from '../../src/index.js'
import { redisStore } from '../../src/redis/store.js'
import { deferred, until } from '../helpers/deferred.js'
import { redisClient, uniquePrefix } from '../helpers/tiers.js'

/** Two caches on one store stand for two processes (no L1, so every read asks the store). */
const STORES: [string, () => () => Store][] = [
  [
    'memory store',
    () => {
      const store = memoryStore()
      return () => store
    },
  ],
  [
    'Redis',
    () => {
      const prefix = uniquePrefix()
      return () => redisStore({ client: redisClient(), prefix })
    },
  ],
]

const open: Cache[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((cache) => cache.close()))
})

describe.each(STORES)('lock: true (%s)', (_name, shared) => {
  const pair = () => {
    const store = shared()
    // Generous store time limits and no breaker: on a busy machine a slow lease call must not
    // count as an unreachable store (which lets a waiter compute on its own, by design).
    const make = () =>
      createCache({ store: store(), l1: false, storeTimeout: '10s', breaker: false })
    const caches = [make(), make()] as const
    open.push(...caches)
    return caches
  }

  it('one process computes, the other waits for its value', async () => {
    const [a, b] = pair()
    const gate = deferred<string>()
    let runs = 0
    const first = a.getOrSet('k', () => (runs++, gate.promise), { lock: true })
    await until(() => runs === 1)
    const second = b.getOrSet('k', () => (runs++, 'b computed'), { lock: true })
    await new Promise((resolve) => setTimeout(resolve, 30)) // b is polling, not loading
    expect(runs).toBe(1)
    gate.resolve('a computed')
    expect(await first).toBe('a computed')
    expect(await second).toBe('a computed')
    expect(runs).toBe(1)
  })

  it('when the holder fails, a waiter takes the lease and computes', async () => {
    const [a, b] = pair()
    const gate = deferred<string>()
    let started = false
    const first = a.getOrSet('k', () => ((started = true), gate.promise), { lock: true })
    await until(() => started)
    const second = b.getOrSet('k', () => 'b computed', { lock: true })
    gate.reject(new Error('a failed'))
    await expect(first).rejects.toThrow('a failed')
    expect(await second).toBe('b computed')
  })

  it('an invalidation during the lease voids the holder’s value; the waiter loads fresh', async () => {
    const [a, b] = pair()
    const gate = deferred<string>()
    let started = false
    const first = a.getOrSet('k', () => ((started = true), gate.promise), {
      lock: true,
      tags: ['t'],
    })
    await until(() => started)
    const second = b.getOrSet('k', () => 'fresh', { lock: true, tags: ['t'] })
    await b.invalidate('t')
    gate.resolve('stale')
    expect(await first).toBe('stale') // its caller asked before the invalidation
    expect(await second).toBe('fresh') // never the voided value
    expect(await a.get('k')).toBe('fresh')
  })

  it('waits no longer than lock.wait for a holder that never answers', async () => {
    const [a, b] = pair()
    let started = false
    void a.getOrSet('k', () => ((started = true), new Promise<string>(() => {})), { lock: true })
    await until(() => started)
    const t0 = Date.now()
    expect(await b.getOrSet('k', () => 'b computed', { lock: { wait: '60ms' } })).toBe('b computed')
    expect(Date.now() - t0).toBeGreaterThanOrEqual(55)
  })
})
