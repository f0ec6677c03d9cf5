import { describe, expect, it, vi } from 'vitest'

import { type CacheOptions, createCache, isCacheError, memoryStore } from '../../src/index.js'
import { FakeClock } from '../../src/testing/index.js'
import { deferred, settle } from '../helpers/deferred.js'

const tiers: [string, () => CacheOptions][] = [
  ['L1 only', () => ({})],
  ['L1 + shared store', () => ({ store: memoryStore({ clock }) })],
  ['shared store only', () => ({ store: memoryStore({ clock }), l1: false })],
]
let clock = new FakeClock()

/**
 * Runs `operation` with `setTimeout` faked, moving fake time on until it settles: timeouts are
 * tested without waiting for them. (Store round trips are real I/O, hence the real turns.)
 */
async function withFakeTimeouts<T>(operation: () => Promise<T>): Promise<T> {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
  try {
    let done = false
    const result = operation().finally(() => (done = true))
    while (!done) {
      await vi.advanceTimersByTimeAsync(5)
      await new Promise((resolve) => setImmediate(resolve))
    }
    return await result
  } finally {
    vi.useRealTimers()
  }
}

describe.each(tiers)('expiry and grace (%s)', (_name, tier) => {
  const make = (options: CacheOptions = {}) => {
    clock = new FakeClock()
    return createCache({ ...tier(), clock, ...options })
  }

  it('SWR: an expired value within grace is returned at once; the next call gets the new one', async () => {
    const cache = make({ grace: '1h' })
    await cache.getOrSet('k', () => 'v1', { ttl: '10s' })
    clock.advance(10_001)
    expect(await cache.get('k')).toBeUndefined() // get never returns a value past its ttl
    const gate = deferred<string>()
    const started = deferred<void>()
    let runs = 0
    const loader = () => {
      runs++
      started.resolve()
      return gate.promise
    }
    expect(await cache.getOrSet('k', loader, { ttl: '10s' })).toBe('v1')
    expect(await cache.getOrSet('k', loader, { ttl: '10s' })).toBe('v1')
    // The refresh reads the shared tier before its loader runs: wait for the loader, not for time.
    await started.promise
    expect(runs).toBe(1) // one background refresh per key
    gate.resolve('v2')
    await settle()
    expect(await cache.getOrSet('k', loader, { ttl: '10s' })).toBe('v2')
    expect(runs).toBe(1)
  })

  it('past the grace period the caller waits for the loader', async () => {
    const cache = make({ grace: '1m' })
    await cache.getOrSet('k', () => 'v1', { ttl: '10s' })
    clock.advance(10_000 + 60_000)
    expect(await cache.getOrSet('k', () => 'v2')).toBe('v2')
  })

  it('a failing refresh keeps serving the graced value and emits error; a recovered source refreshes', async () => {
    const cache = make({ grace: '1h' })
    const errors: unknown[] = []
    cache.on('error', (e) => errors.push(e.error))
    await cache.getOrSet('k', () => 'v1', { ttl: '10s' })
    clock.advance(10_001)
    const failure = new Error('source down')
    const failing = () => Promise.reject(failure)
    expect(await cache.getOrSet('k', failing)).toBe('v1')
    await settle()
    expect(errors).toEqual([failure])
    expect(await cache.getOrSet('k', failing)).toBe('v1')
    await settle()
    expect(await cache.getOrSet('k', () => 'v2')).toBe('v1') // served while the recovered source loads
    await settle()
    expect(await cache.getOrSet('k', () => 'v3')).toBe('v2')
  })

  it('soft timeout: waits that long for the loader, then serves the graced value', async () => {
    const cache = make({ grace: '1h' })
    await cache.getOrSet('k', () => 'v1', { ttl: '10s' })
    clock.advance(10_001)
    // The loader answers within the timeout: its value is returned.
    expect(await cache.getOrSet('k', () => 'v2', { timeout: 1_000, ttl: '10s' })).toBe('v2')
    clock.advance(10_001)
    // The loader does not answer within the timeout (fake timers): the graced value is served.
    const gate = deferred<string>()
    expect(
      await withFakeTimeouts(() => cache.getOrSet('k', () => gate.promise, { timeout: 20 })),
    ).toBe('v2')
    gate.resolve('v3')
    await settle()
    expect(await cache.getOrSet('k', () => 'unused')).toBe('v3')
  })

  it('soft timeout: a loader failure within the timeout serves the graced value', async () => {
    const cache = make({ grace: '1h' })
    const errors: unknown[] = []
    cache.on('error', (e) => errors.push(e.error))
    await cache.getOrSet('k', () => 'v1', { ttl: '10s' })
    clock.advance(10_001)
    const failure = new Error('nope')
    expect(await cache.getOrSet('k', () => Promise.reject(failure), { timeout: 1_000 })).toBe('v1')
    expect(errors).toEqual([failure])
  })

  it('hard timeout rejects with E_TIMEOUT; the load still completes and is stored', async () => {
    const cache = make()
    const gate = deferred<string>()
    const error: unknown = await withFakeTimeouts(() =>
      cache.getOrSet('k', () => gate.promise, { hardTimeout: 20 }).catch((e: unknown) => e),
    )
    expect(isCacheError(error, 'E_TIMEOUT')).toBe(true)
    gate.resolve('late')
    await settle()
    expect(await cache.get('k')).toBe('late')
  })

  it('a hard-invalidated value is never served graced', async () => {
    const cache = make({ grace: '1h' })
    await cache.getOrSet('k', () => 'v1', { ttl: '10s', tags: ['t'] })
    clock.advance(10_001)
    await cache.invalidate('t')
    expect(await cache.getOrSet('k', () => 'v2', { tags: ['t'] })).toBe('v2')
  })

  it('a soft-invalidated value is served graced while refreshing', async () => {
    const cache = make({ grace: '1h' })
    await cache.getOrSet('k', () => 'v1', { ttl: '10s', tags: ['t'] })
    await cache.invalidate('t', { stale: true })
    expect(await cache.getOrSet('k', () => 'v2', { tags: ['t'] })).toBe('v1')
    await settle()
    expect(await cache.getOrSet('k', () => 'v3', { tags: ['t'] })).toBe('v2')
  })

  it('a per-call grace of 0 refuses graced values', async () => {
    const cache = make({ grace: '1h' })
    await cache.getOrSet('k', () => 'v1', { ttl: '10s' })
    clock.advance(10_001)
    expect(await cache.getOrSet('k', () => 'v2', { grace: 0 })).toBe('v2')
  })

  it('version: entries written under another version are ignored', async () => {
    const cache = make()
    await cache.getOrSet('k', () => ({ name: 'old shape' }), { version: 1 })
    let runs = 0
    const v2 = () => {
      runs++
      return { fullName: 'new shape' }
    }
    expect(await cache.getOrSet('k', v2, { version: 2 })).toEqual({ fullName: 'new shape' })
    expect(await cache.getOrSet('k', v2, { version: 2 })).toEqual({ fullName: 'new shape' })
    expect(runs).toBe(1)
  })

  it('cacheErrors: chosen failures are cached for their own ttl and rethrown on hits', async () => {
    const cache = make()
    class NotFound extends Error {
      override name = 'NotFound'
      code = 'E_NOT_FOUND'
    }
    let runs = 0
    const loader = () => {
      runs++
      return Promise.reject(new NotFound('no such user'))
    }
    const options = {
      cacheErrors: { when: (e: unknown) => e instanceof NotFound, ttl: '5s' as const },
    }
    await expect(cache.getOrSet('k', loader, options)).rejects.toMatchObject({
      name: 'NotFound',
      message: 'no such user',
    })
    await expect(cache.getOrSet('k', loader, options)).rejects.toMatchObject({
      name: 'NotFound',
      code: 'E_NOT_FOUND',
    })
    expect(runs).toBe(1)
    clock.advance(5_000)
    await expect(cache.getOrSet('k', loader, options)).rejects.toMatchObject({ name: 'NotFound' })
    expect(runs).toBe(2)
    // Failures not chosen are not cached.
    const other = () => {
      runs++
      return Promise.reject(new Error('transient'))
    }
    await expect(cache.getOrSet('o', other, options)).rejects.toThrow('transient')
    await expect(cache.getOrSet('o', other, options)).rejects.toThrow('transient')
    expect(runs).toBe(4)
  })
})

describe('ttl rules', () => {
  it('jitter only ever shortens the ttl', async () => {
    const clock = new FakeClock()
    const cache = createCache({ clock, jitter: 0.5 })
    const expiries: number[] = []
    for (let i = 0; i < 200; i++) {
      await cache.set(`k${i}`, i, { ttl: '10s' })
      expiries.push((await cache.inspect(`k${i}`))!.ttl)
    }
    expect(Math.max(...expiries)).toBeLessThanOrEqual(10_000)
    expect(Math.min(...expiries)).toBeGreaterThanOrEqual(5_000)
    expect(new Set(expiries).size).toBeGreaterThan(1)
  })

  it('ctx.setTtl overrides, and the shortest nested ttl wins', async () => {
    const clock = new FakeClock()
    const cache = createCache({ clock, ttl: '1h' })
    await cache.getOrSet('short', (ctx) => {
      ctx.setTtl('1s')
      return 1
    })
    expect((await cache.inspect('short'))!.ttl).toBe(1_000)
    await cache.getOrSet('outer', () => cache.getOrSet('inner', () => 2, { ttl: '2s' }))
    expect((await cache.inspect('outer'))!.ttl).toBe(2_000)
  })
})

describe('limits', () => {
  it('LRU order: the least recently used entry goes first', async () => {
    const cache = createCache({ l1: { maxEntries: 2 } })
    await cache.set('a', 1)
    await cache.set('b', 2)
    await cache.get('a') // a is now the most recently used
    await cache.set('c', 3)
    expect(await cache.getMany(['a', 'b', 'c'])).toEqual([1, undefined, 3])
  })

  it('maxBytes evicts by estimated size (or by sizeOf)', async () => {
    const cache = createCache({
      l1: { maxEntries: 1_000, maxBytes: 100, sizeOf: (v) => String(v).length },
    })
    await cache.set('a', 'x'.repeat(60))
    await cache.set('b', 'y'.repeat(60))
    expect(await cache.get('a')).toBeUndefined()
    expect(await cache.get('b')).toBe('y'.repeat(60))
    const estimated = createCache({ l1: { maxBytes: 2_000 } })
    for (let i = 0; i < 20; i++) await estimated.set(`k${i}`, { text: 'z'.repeat(100) })
    expect(estimated.stats().l1.entries).toBeLessThan(20)
    expect(estimated.stats().l1.entries).toBeGreaterThan(0)
  })

  it('maxEntryBytes: oversized values are returned, not cached, and reported once', async () => {
    const cache = createCache({ store: memoryStore(), maxEntryBytes: 1_000 })
    const errors: unknown[] = []
    cache.on('error', (e) => errors.push(e.error))
    const big = 'x'.repeat(5_000)
    let runs = 0
    const load = () => {
      runs++
      return big
    }
    expect(await cache.getOrSet('big', load)).toBe(big)
    expect(await cache.getOrSet('big', load)).toBe(big)
    expect(runs).toBe(2)
    expect(errors).toHaveLength(1)
    expect(isCacheError(errors[0], 'E_ENTRY_TOO_LARGE')).toBe(true)
    expect(await cache.set('small', 'ok')).toBe(true)
  })
})
