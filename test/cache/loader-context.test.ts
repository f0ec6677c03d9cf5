import diagnostics from 'node:diagnostics_channel'

import { describe, expect, it } from 'vitest'

import { createCache, type LoaderContext } from '../../src/index.js'
import { FakeClock } from '../../src/testing/index.js'
import { deferred, until } from '../helpers/deferred.js'

/**
 * The loader's context (issue 24): the callers' abort signals reach it as `ctx.signal`,
 * `ctx.setGrace` sets the entry's grace, and `earlyRefresh` reloads a hot entry before it
 * expires — one reload at a time, never stored over a later invalidation.
 */

/** Resolves when the next load of `key` settled (stored or not): its tracing channel says so. */
function loadSettled(key: string): Promise<void> {
  const channel = diagnostics.tracingChannel<unknown, { key?: string }>('cachegraph:load')
  return new Promise((resolve) => {
    const handlers = {
      start: () => {},
      end: () => {},
      asyncStart: () => {},
      error: () => {},
      asyncEnd: (message: { key?: string }) => {
        if (message.key?.endsWith(`::${key}`) !== true) return
        channel.unsubscribe(handlers)
        resolve()
      },
    }
    channel.subscribe(handlers)
  })
}

describe('ctx.signal', () => {
  it('aborts the shared load only once every caller aborted', async () => {
    const cache = createCache()
    const gate = deferred<string>()
    let ctx: LoaderContext | undefined
    const loader = (c: LoaderContext) => ((ctx = c), gate.promise)
    const one = new AbortController()
    const two = new AbortController()
    const first = cache.getOrSet('k', loader, { signal: one.signal })
    const second = cache.getOrSet('k', loader, { signal: two.signal })
    await until(() => ctx !== undefined)
    one.abort()
    await expect(first).rejects.toMatchObject({ name: 'AbortError' })
    expect(ctx!.signal.aborted).toBe(false)
    two.abort(new Error('gone'))
    await expect(second).rejects.toThrow('gone')
    expect(ctx!.signal.aborted).toBe(true)
    expect(ctx!.signal.reason).toEqual(new Error('gone'))
    // A caller arriving now does not join the aborted load: it gets a load of its own.
    gate.reject(ctx!.signal.reason)
    expect(await cache.getOrSet('k', () => 'fresh')).toBe('fresh')
    await cache.close()
  })

  it('is never aborted while a caller without a signal waits', async () => {
    const cache = createCache()
    const gate = deferred<string>()
    let ctx: LoaderContext | undefined
    const loader = (c: LoaderContext) => ((ctx = c), gate.promise)
    const controller = new AbortController()
    const patient = cache.getOrSet('k', loader)
    const hasty = cache.getOrSet('k', loader, { signal: controller.signal })
    await until(() => ctx !== undefined)
    controller.abort()
    await expect(hasty).rejects.toMatchObject({ name: 'AbortError' })
    expect(ctx!.signal.aborted).toBe(false)
    gate.resolve('v')
    expect(await patient).toBe('v')
    await cache.close()
  })

  it('is the caller’s own signal when caching is off', async () => {
    const cache = createCache({ enabled: false })
    const controller = new AbortController()
    let seen: AbortSignal | undefined
    await cache.getOrSet('k', (ctx) => ((seen = ctx.signal), 1), { signal: controller.signal })
    expect(seen).toBe(controller.signal)
    await cache.close()
  })
})

describe('ctx.setGrace', () => {
  it('sets the grace of the entry being built: past its ttl it is served while it refreshes', async () => {
    const clock = new FakeClock()
    const cache = createCache({ clock, ttl: '1s' })
    expect(await cache.getOrSet('k', (ctx) => (ctx.setGrace('1m'), 'old'))).toBe('old')
    expect(await cache.getOrSet('other', () => 'old')).toBe('old')
    clock.advance(2_000)
    const gate = deferred<string>()
    const refreshed = loadSettled('k')
    // Within the grace the old value is served at once; the refresh runs in the background.
    expect(await cache.getOrSet('k', () => gate.promise)).toBe('old')
    // Without one (the cache's grace is 0) the caller waits for the loader.
    expect(await cache.getOrSet('other', () => 'new')).toBe('new')
    gate.resolve('new')
    await refreshed
    expect(await cache.get('k')).toBe('new')
    clock.advance(61_000)
    expect(await cache.getOrSet('k', () => 'newest', { timeout: 0 })).toBe('newest')
    await cache.close()
  })
})

describe('earlyRefresh', () => {
  it('reloads a hot entry once in the last part of its ttl, answering hits at once', async () => {
    const clock = new FakeClock()
    const cache = createCache({ clock, ttl: '10s' })
    let loads = 0
    const gates = [deferred<number>(), deferred<number>()]
    const loader = () => gates[loads++]!.promise
    const read = () => cache.getOrSet('k', loader, { earlyRefresh: 0.8 })
    gates[0]!.resolve(1)
    expect(await read()).toBe(1)
    clock.advance(7_000)
    expect(await read()).toBe(1)
    expect(loads).toBe(1)
    clock.advance(1_500)
    const refreshed = loadSettled('k')
    // Past 80 % of the ttl: answered from the entry, one reload started — and only one.
    expect(await read()).toBe(1)
    expect(await read()).toBe(1)
    expect(loads).toBe(2)
    gates[1]!.resolve(2)
    await refreshed
    expect(await read()).toBe(2)
    // The new entry lives a full ttl from its reload.
    clock.advance(9_000)
    expect(await cache.get('k')).toBe(2)
    await cache.close()
  })

  it('never stores a reload that an invalidation overtook', async () => {
    const clock = new FakeClock()
    const cache = createCache({ clock, ttl: '10s' })
    const gate = deferred<string>()
    await cache.getOrSet('k', () => 'v1', { tags: ['t'] })
    clock.advance(9_000)
    const settled = loadSettled('k')
    expect(await cache.getOrSet('k', () => gate.promise, { tags: ['t'], earlyRefresh: 0.5 })).toBe(
      'v1',
    )
    await cache.invalidate('t')
    gate.resolve('read before the invalidation')
    await settled
    expect(await cache.get('k')).toBeUndefined()
    expect(await cache.getOrSet('k', () => 'v2', { tags: ['t'] })).toBe('v2')
    await cache.close()
  })

  it('reports a failed reload as an error event and keeps the entry', async () => {
    const clock = new FakeClock()
    const cache = createCache({ clock, ttl: '10s' })
    const errors: string[] = []
    cache.on('error', ({ operation, key }) => errors.push(`${operation} ${key}`))
    await cache.getOrSet('k', () => 'v1')
    clock.advance(9_000)
    const settled = loadSettled('k')
    expect(
      await cache.getOrSet('k', () => Promise.reject(new Error('db down')), { earlyRefresh: 0.8 }),
    ).toBe('v1')
    await settled.catch(() => {})
    await until(() => errors.length > 0)
    expect(errors).toEqual(['refresh cg::k'])
    expect(await cache.get('k')).toBe('v1')
    await cache.close()
  })

  it('refuses a fraction outside (0, 1)', async () => {
    const cache = createCache()
    await cache.set('k', 1)
    for (const earlyRefresh of [0, 1, 1.5, Number.NaN]) {
      await expect(cache.getOrSet('k', () => 2, { earlyRefresh })).rejects.toMatchObject({
        code: 'E_INVALID_OPTION',
      })
    }
    await cache.close()
  })

  it('refuses a bad fraction on a miss too, before the loader runs, and when a function is wrapped', async () => {
    const cache = createCache()
    let loads = 0
    const load = () => ++loads
    for (const earlyRefresh of [0, -1, 2, Number.NaN, '0.5' as unknown as number]) {
      await expect(cache.getOrSet('absent', load, { earlyRefresh })).rejects.toThrow(
        /option `earlyRefresh` must be a number between 0 and 1/,
      )
      expect(() => cache.wrap(load, { name: 'load', earlyRefresh })).toThrow(
        expect.objectContaining({ code: 'E_INVALID_OPTION' }),
      )
    }
    expect(loads).toBe(0)
    expect(await cache.has('absent')).toBe(false)
    await cache.close()
  })
})
