import { afterEach, describe, expect, it } from 'vitest'

import type { Cache } from '../../src/cache/cache.js'
import { deferred } from '../helpers/deferred.js'
import {
  applied,
  barrier,
  closeFleet,
  keyTag,
  knownKeys,
  member,
  recorded,
  watchBus,
  quietPair,
} from '../helpers/quiet-fleet.js'
import { redisClient, uniquePrefix } from '../helpers/tiers.js'

/**
 * Quiet steps: a superseding `set` of a key that no stored entry ever carried (as its own key tag
 * or as a dependency) takes its step, records and logs it, but publishes nothing. The fleet hears
 * the steps it needs, in order, and never takes the missing numbers for a gap.
 *
 * This file: which steps are quiet, and what marks a key (its own entry, loads, dependencies,
 * sessions).
 */
afterEach(closeFleet)

describe('quiet steps: which are quiet', () => {
  it('a set of a key no entry ever carried publishes nothing, and records and marks the key', async () => {
    const { prefix, a, b, bus } = await quietPair()
    const heardByB = applied(b.cache)
    const NEW = keyTag('new-key')

    await a.cache.set('new-key', 1, { tags: ['user-tag'] })
    const fence = await barrier(a.cache, bus)

    // Nobody could hold a copy of the key: nothing about it went out.
    expect(bus.mentions(NEW)).toBe(false)
    expect(heardByB).not.toContain(NEW)
    // The step was taken and recorded (it refuses loads of the key running elsewhere) ...
    const quiet = await recorded(prefix, NEW)
    expect(quiet).toBeGreaterThan(0)
    expect(quiet).toBeLessThan(fence.steps[0]?.seq ?? 0)
    // ... and the next message says that the steps before it, the quiet one among them, were quiet.
    expect(fence.after).toBeLessThan(quiet)
    expect(await redisClient().get(`{${prefix}}:pub`)).toBe(String(fence.steps.at(-1)?.seq))
    // Its entry marks its key tag (user tags are not marked), next to the hash's marker.
    const marks = await redisClient().hgetall(knownKeys(prefix))
    expect(Object.keys(marks).sort()).toEqual(['', NEW])
    expect(Number(marks[NEW])).toBeGreaterThanOrEqual(quiet)
    // The value is stored all the same, and another member reads it without a gap.
    expect(await b.cache.get('new-key')).toBe(1)
    expect(b.cache.stats().bus).toMatchObject({ trusted: true, gaps: 0 })
  })

  it("a second set of the key is published, and drops another cache's L1 copy", async () => {
    const { a, b, bus } = await quietPair()
    const heardByB = applied(b.cache)
    const K = keyTag('k')

    await a.cache.set('k', 'first')
    await barrier(a.cache, bus)
    // b reads the first value: from the shared tier, then from its own L1.
    expect(await b.cache.get('k')).toBe('first')
    const hits = b.cache.stats().l1.hits
    expect(await b.cache.get('k')).toBe('first')
    expect(b.cache.stats().l1.hits).toBe(hits + 1)

    await a.cache.set('k', 'second')
    await barrier(a.cache, bus)

    // Only the second set went out: the first one was quiet.
    expect(bus.stepsWith(K).map((step) => step.kind)).toEqual(['h'])
    expect(heardByB).toContain(K)
    expect(await b.cache.get('k')).toBe('second')
  })

  it('a load written to the store marks its key: a later set of it is published', async () => {
    const { prefix, a, b, bus } = await quietPair()
    const K = keyTag('k')

    expect(await b.cache.getOrSet('k', () => 'loaded')).toBe('loaded')
    expect(await redisClient().hexists(knownKeys(prefix), K)).toBe(1)
    const hits = b.cache.stats().l1.hits
    expect(await b.cache.get('k')).toBe('loaded')
    expect(b.cache.stats().l1.hits).toBe(hits + 1)

    // a never read the key; b did, through its load.
    await a.cache.set('k', 'written')
    await barrier(a.cache, bus)

    expect(bus.stepsWith(K).map((step) => step.kind)).toEqual(['h'])
    expect(await b.cache.get('k')).toBe('written')
  })

  it.each([
    ['set', (cache: Cache) => cache.set('k', 'written').then(() => {}), 'written'],
    ['delete', (cache: Cache) => cache.delete('k'), 'joiner loaded'],
  ])(
    'a load of the key running elsewhere during a quiet %s is not stored, nor joined after it',
    async (what, write, after) => {
      const { a, b, bus } = await quietPair()
      const loader = deferred<string>()
      const started = deferred<void>()
      const first = b.cache.getOrSet('k', () => {
        started.resolve()
        return loader.promise
      })
      await started.promise // b's load is as of the store's sequence before the write

      await write(a.cache)
      // b never hears of it: a caller arriving now would join the load that started before it.
      const joined = b.cache.getOrSet('k', () => 'joiner loaded')
      loader.resolve(`loaded before the ${what}`)

      expect(await first).toBe(`loaded before the ${what}`) // asked before it: it gets the load
      expect(await joined).toBe(after)
      await barrier(a.cache, bus)
      expect(bus.mentions(keyTag('k'))).toBe(false)
      expect(await b.cache.get('k')).toBe(after)
      expect(await a.cache.get('k')).toBe(after)
    },
  )

  it('a delete of a key no entry ever carried publishes nothing, and records the key', async () => {
    const { prefix, a, b, bus } = await quietPair()
    const heardByB = applied(b.cache)
    const NEW = keyTag('never-cached')

    await a.cache.delete('never-cached')
    const fence = await barrier(a.cache, bus)

    expect(bus.mentions(NEW)).toBe(false)
    expect(heardByB).not.toContain(NEW)
    const quiet = await recorded(prefix, NEW)
    expect(quiet).toBeGreaterThan(0)
    expect(fence.after).toBeLessThan(quiet)
    // A delete stores nothing: the key is not marked.
    expect(await redisClient().hexists(knownKeys(prefix), NEW)).toBe(0)
    expect(b.cache.stats().bus).toMatchObject({ trusted: true, gaps: 0 })
  })

  it("a delete of a key an entry carries is published, and drops another cache's L1 copy", async () => {
    const { a, b, bus } = await quietPair()
    const heardByB = applied(b.cache)
    const K = keyTag('k')

    await a.cache.set('k', 'stored') // quiet: nobody held the key
    await barrier(a.cache, bus)
    expect(await b.cache.get('k')).toBe('stored')
    const hits = b.cache.stats().l1.hits
    expect(await b.cache.get('k')).toBe('stored')
    expect(b.cache.stats().l1.hits).toBe(hits + 1)

    await a.cache.delete('k')
    await barrier(a.cache, bus)

    expect(bus.stepsWith(K).map((step) => step.kind)).toEqual(['h'])
    expect(heardByB).toContain(K)
    expect(await b.cache.get('k')).toBeUndefined()
  })

  it('an entry built from another key marks it: a set of that key is published, and the built entry is dropped elsewhere', async () => {
    const prefix = uniquePrefix()
    const [a, b, c] = [await member(prefix), await member(prefix), await member(prefix)]
    const bus = await watchBus(prefix)
    await barrier(a.cache, bus) // no step of a state is quiet before one was published
    const build = (cache: Cache) =>
      cache.getOrSet('outer', async () => (await cache.getOrSet('inner', () => 1)) + 1)

    expect(await build(b.cache)).toBe(2)
    const marks = await redisClient().hgetall(knownKeys(prefix))
    expect(Object.keys(marks).sort()).toEqual(['', keyTag('inner'), keyTag('outer')])
    // c holds the built entry in its L1.
    expect(await c.cache.get('outer')).toBe(2)
    const hits = c.cache.stats().l1.hits
    expect(await c.cache.get('outer')).toBe(2)
    expect(c.cache.stats().l1.hits).toBe(hits + 1)

    await a.cache.set('inner', 10)
    await barrier(a.cache, bus)

    expect(bus.stepsWith(keyTag('inner')).map((step) => step.kind)).toEqual(['h'])
    // Built from the old inner value: gone from c's L1, and refused from the shared tier.
    expect(await c.cache.get('outer')).toBeUndefined()
    expect(await build(c.cache)).toBe(11)
  })

  it('an entry built from a value too large to cache is the one mark of that key', async () => {
    const prefix = uniquePrefix()
    // Values over 100 bytes are returned but not cached: the inner value is never stored, so
    // only the outer entry, which carries its key tag as a dependency, can mark it.
    const [a, b, c] = [
      await member(prefix, { maxEntryBytes: 100 }),
      await member(prefix, { maxEntryBytes: 100 }),
      await member(prefix, { maxEntryBytes: 100 }),
    ]
    const bus = await watchBus(prefix)
    await barrier(a.cache, bus) // no step of a state is quiet before one was published
    const INNER = keyTag('inner')
    const build = (cache: Cache, version: string) =>
      cache.getOrSet('outer', async () => {
        const inner = await cache.getOrSet('inner', () => `${version}:${'x'.repeat(200)}`)
        return `built from ${inner.split(':')[0]}`
      })

    expect(await build(b.cache, 'v1')).toBe('built from v1')
    expect(await redisClient().exists(`${prefix}:e:cg::inner`)).toBe(0)
    expect(await redisClient().hexists(knownKeys(prefix), INNER)).toBe(1)
    // c holds the built entry in its L1.
    expect(await c.cache.get('outer')).toBe('built from v1')
    const hits = c.cache.stats().l1.hits
    expect(await c.cache.get('outer')).toBe('built from v1')
    expect(c.cache.stats().l1.hits).toBe(hits + 1)

    await a.cache.set('inner', 'v2')
    await barrier(a.cache, bus)

    expect(bus.stepsWith(INNER).map((step) => step.kind)).toEqual(['h'])
    expect(await c.cache.get('outer')).toBeUndefined()
    expect(await build(c.cache, 'v3')).toBe('built from v2')
  })

  it("a session's private entry marks its key: a first set of it elsewhere is heard, and the entry dropped", async () => {
    const { prefix, a, b, bus } = await quietPair()
    let loads = 0
    const load = async () => `loaded ${++loads}`
    await b.cache.session('s', async () => {
      expect(await b.cache.getOrSet('k', load, { scope: 'session' })).toBe('loaded 1')
      // Never stored in the shared tier, yet carried by an entry of b: the store knows it.
      expect(await redisClient().hexists(knownKeys(prefix), keyTag('k'))).toBe(1)
      await a.cache.set('k', 'new')
      await barrier(a.cache, bus)
      expect(bus.mentions(keyTag('k'))).toBe(true)
      expect(await b.cache.getOrSet('k', load, { scope: 'session' })).toBe('loaded 2')
    })
  })
})
