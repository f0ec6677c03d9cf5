import diagnostics from 'node:diagnostics_channel'

import { describe, expect, it } from 'vitest'

import { createCache, dependsOn, memoryStore } from '../../src/index.js'
import { FakeClock } from '../../src/testing/index.js'

describe('cache.peek', () => {
  const make = (clock = new FakeClock()) => ({
    cache: createCache({ clock, namespace: 'app', store: memoryStore() }),
    clock,
  })

  it('answers a fresh hit of L1 synchronously, counted as a hit', async () => {
    const { cache } = make()
    await cache.getOrSet('a', () => ({ n: 1 }))
    const before = cache.stats()
    expect(cache.peek('a')).toEqual({ n: 1 })
    const after = cache.stats()
    expect(after.hits).toBe(before.hits + 1)
    expect(after.misses).toBe(before.misses)
  })

  it('a miss is undefined and counts nothing, and loads nothing', async () => {
    const { cache } = make()
    const before = cache.stats()
    expect(cache.peek('nothing')).toBeUndefined()
    expect(cache.stats()).toEqual(before)
    expect(await cache.has('nothing')).toBe(false)
  })

  it('serves by the rule getOrSet serves by: version, ttl, invalidation', async () => {
    const { cache, clock } = make()
    await cache.getOrSet('v', () => 1, { version: 2, ttl: '10s', tags: ['t'] })
    expect(cache.peek('v', { version: 2 })).toBe(1)
    expect(cache.peek('v', { version: '2' })).toBe(1)
    expect(cache.peek('v', { version: 3 })).toBeUndefined()
    expect(cache.peek('v')).toBeUndefined()
    clock.advance(9_999)
    expect(cache.peek('v', { version: 2 })).toBe(1)
    await cache.invalidate('t')
    expect(cache.peek('v', { version: 2 })).toBeUndefined()
    await cache.getOrSet('w', () => 1, { ttl: '10s' })
    clock.advance(10_000)
    expect(cache.peek('w')).toBeUndefined()
  })

  it('never answers a value only the shared tier holds, or a soft-invalidated one', async () => {
    const clock = new FakeClock()
    const store = memoryStore()
    const writer = createCache({ clock, store })
    const reader = createCache({ clock, store })
    await writer.set('s', 1, { tags: ['t'] })
    expect(reader.peek('s')).toBeUndefined()
    await writer.getOrSet('g', () => 1, { tags: ['t'], grace: '1m' })
    await writer.invalidate('t', { stale: true })
    expect(writer.peek('g')).toBeUndefined()
  })

  it('never answers a cached failure', async () => {
    const { cache } = make()
    const cacheErrors = { when: () => true, ttl: '1m' as const }
    const fail = () => Promise.reject(new Error('down'))
    await expect(cache.getOrSet('f', fail, { cacheErrors })).rejects.toThrow('down')
    await expect(cache.getOrSet('f', () => 1, { cacheErrors })).rejects.toThrow('down')
    expect(cache.peek('f')).toBeUndefined()
  })

  it('records what a hit depends on in the surrounding read', async () => {
    const { cache } = make()
    await cache.getOrSet('inner', () => 1, { tags: ['dep'] })
    await cache.getOrSet('outer', () => {
      dependsOn('own')
      return cache.peek<number>('inner')
    })
    await cache.invalidate('dep')
    expect(cache.peek('outer')).toBeUndefined()
  })

  it('answers nothing while getOrSet is traced (every read takes the traced call)', async () => {
    const { cache } = make()
    await cache.getOrSet('a', () => 1)
    const channel = diagnostics.tracingChannel('cachegraph:getOrSet')
    const handlers = { start() {}, end() {}, asyncStart() {}, asyncEnd() {}, error() {} }
    channel.subscribe(handlers)
    try {
      expect(cache.peek('a')).toBeUndefined()
    } finally {
      channel.unsubscribe(handlers)
    }
    expect(cache.peek('a')).toBe(1)
  })
})
