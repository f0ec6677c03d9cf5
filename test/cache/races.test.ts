import { describe, expect, it } from 'vitest'

import { createCache, dependsOn, memoryStore } from '../../src/index.js'
import { quiesce as settle, trusted, WITH_AND_WITHOUT_STORE } from '../helpers/tiers.js'
import { deferred, until } from '../helpers/deferred.js'

/**
 * Deterministic races: deferred promises decide when each loader finishes relative to
 * invalidations. Every case runs on the L1 alone and on L1 + a shared store.
 */
describe.each(WITH_AND_WITHOUT_STORE)('races (%s)', (_name, tiers) => {
  /** A cache whose bus (when the tier has one) vouches for it: joins need that. */
  const make = async () => trusted(createCache(tiers()))

  it('stale set: a loader invalidated mid-flight returns to its caller but is not stored', async () => {
    const cache = await make()
    const gate = deferred<string>()
    const first = cache.getOrSet('k', () => gate.promise, { tags: ['t'] })
    await settle()
    await cache.invalidate('t')
    gate.resolve('old')
    expect(await first).toBe('old')
    expect(await cache.get('k')).toBeUndefined()
    expect(await cache.getOrSet('k', () => 'new', { tags: ['t'] })).toBe('new')
  })

  it('late-discovered tag (dependsOn after the invalidation) still voids the write', async () => {
    const cache = await make()
    const gate = deferred<void>()
    const first = cache.getOrSet('k', async () => {
      await gate.promise
      dependsOn('user:1')
      return 'old'
    })
    await settle()
    await cache.invalidate('user:1')
    gate.resolve()
    expect(await first).toBe('old')
    expect(await cache.get('k')).toBeUndefined()
  })

  it('late-discovered tag from the result (tags as a function) voids the write', async () => {
    const cache = await make()
    const gate = deferred<{ id: number }>()
    const first = cache.getOrSet('k', () => gate.promise, { tags: (user) => [`user:${user.id}`] })
    await settle()
    await cache.invalidate('user:7')
    gate.resolve({ id: 7 })
    await first
    expect(await cache.get('k')).toBeUndefined()
  })

  it('an invalidation of an unrelated tag does not void the write', async () => {
    const cache = await make()
    const gate = deferred<string>()
    const first = cache.getOrSet('k', () => gate.promise, { tags: ['t'] })
    await settle()
    await cache.invalidate('other')
    gate.resolve('v')
    await first
    expect(await cache.get('k')).toBe('v')
  })

  it('late joiner: a caller arriving after an invalidation does not join the older flight', async () => {
    const cache = await make()
    const gates = [deferred<string>(), deferred<string>()]
    let runs = 0
    const loader = () => (gates[runs++] as { promise: Promise<string> }).promise
    const early = cache.getOrSet('k', loader, { tags: ['t'] })
    await until(() => runs === 1) // the first load is running
    await cache.invalidate('t')
    const late = cache.getOrSet('k', loader, { tags: ['t'] })
    await until(() => runs === 2) // the late caller started its own load
    await settle()
    expect(runs).toBe(2)
    gates[0]!.resolve('old')
    gates[1]!.resolve('new')
    expect(await early).toBe('old')
    expect(await late).toBe('new')
    expect(await cache.get('k')).toBe('new')
  })

  it('late joiner whose tag is discovered only after it joined loads again', async () => {
    const cache = await make()
    const gate = deferred<void>()
    let runs = 0
    const loader = async () => {
      const run = ++runs
      if (run === 1) {
        await gate.promise
        dependsOn('t') // discovered after the invalidation and after the second caller joined
        return 'old'
      }
      dependsOn('t')
      return 'new'
    }
    const early = cache.getOrSet('k', loader)
    await until(() => runs === 1)
    await cache.invalidate('t')
    const late = cache.getOrSet('k', loader)
    await settle()
    expect(runs).toBe(1) // joined: the flight's known tags were not invalidated
    gate.resolve()
    expect(await early).toBe('old')
    expect(await late).toBe('new')
    expect(runs).toBe(2)
  })

  it('a caller that joined before the invalidation shares the result (one loader run)', async () => {
    const cache = await make()
    const gate = deferred<string>()
    let runs = 0
    const loader = () => {
      runs++
      return gate.promise
    }
    const a = cache.getOrSet('k', loader, { tags: ['t'] })
    const b = cache.getOrSet('k', loader, { tags: ['t'] })
    await settle()
    await cache.invalidate('t')
    gate.resolve('v')
    expect(await Promise.all([a, b])).toEqual(['v', 'v'])
    expect(runs).toBe(1)
    expect(await cache.get('k')).toBeUndefined()
  })

  it('delete during a load: the load is not stored', async () => {
    const cache = await make()
    const gate = deferred<string>()
    const load = cache.getOrSet('k', () => gate.promise)
    await settle()
    await cache.delete('k')
    gate.resolve('old')
    expect(await load).toBe('old')
    expect(await cache.get('k')).toBeUndefined()
  })

  it('clear during a load: the load is not stored', async () => {
    const cache = await make()
    const child = cache.namespace('child')
    const gate = deferred<string>()
    const load = child.getOrSet('k', () => gate.promise)
    await settle()
    await child.clear()
    gate.resolve('old')
    await load
    expect(await child.get('k')).toBeUndefined()
  })

  it('a plain set during a load wins over the slower, older load', async () => {
    const cache = await make()
    const gate = deferred<string>()
    const load = cache.getOrSet('k', () => gate.promise)
    await settle()
    expect(await cache.set('k', 'written')).toBe(true)
    gate.resolve('loaded-before-the-write')
    await load
    expect(await cache.get('k')).toBe('written')
  })

  it('set with asOf: an invalidation after the token voids the write', async () => {
    const cache = await make()
    const asOf = await cache.begin()
    await cache.invalidate('t')
    expect(await cache.set('k', 'old', { tags: ['t'], asOf })).toBe(false)
    expect(await cache.get('k')).toBeUndefined()
    const later = await cache.begin()
    expect(await cache.set('k', 'new', { tags: ['t'], asOf: later })).toBe(true)
    expect(await cache.get('k')).toBe('new')
  })

  it('soft vs hard: a later soft record never revives a hard-invalidated entry', async () => {
    const cache = await make()
    await cache.set('k', 'v', { tags: ['t'] })
    await cache.invalidate('t') // hard
    await cache.invalidate('t', { stale: true }) // soft, later sequence
    expect(await cache.get('k')).toBeUndefined()
    expect((await cache.inspect('k'))?.status ?? 'invalid').toBe('invalid')
  })

  it('soft invalidation: get never returns it, getOrSet serves it while refreshing', async () => {
    const cache = await make()
    await cache.set('k', 'v', { tags: ['t'] })
    await cache.invalidate('t', { stale: true })
    expect(await cache.get('k')).toBeUndefined()
    expect((await cache.inspect('k'))?.status).toBe('stale')
    // getOrSet serves it stale at once while one refresh runs; the next call gets the new value.
    let runs = 0
    expect(await cache.getOrSet('k', () => `fresh ${++runs}`, { tags: ['t'] })).toBe('v')
    await until(async () => (await cache.inspect('k'))?.status === 'valid') // refreshed
    expect(await cache.getOrSet('k', () => `fresh ${++runs}`, { tags: ['t'] })).toBe('fresh 1')
    expect(runs).toBe(1)
    expect(await cache.get('k')).toBe('fresh 1')
  })

  it('a hard record after a soft one still drops the entry', async () => {
    const cache = await make()
    await cache.set('k', 'v', { tags: ['t'] })
    await cache.invalidate('t', { stale: true })
    await cache.invalidate('t')
    expect((await cache.inspect('k'))?.status ?? 'invalid').toBe('invalid')
  })

  it('nested calls: tags propagate from an inner hit and an inner miss', async () => {
    const cache = await make()
    await cache.set('inner-hit', 1, { tags: ['a'] })
    const outer = () =>
      cache.getOrSet('outer', async () => {
        const x = await cache.get<number>('inner-hit')
        const y = await cache.getOrSet('inner-miss', () => 2, { tags: ['b'] })
        return (x ?? 0) + y
      })
    expect(await outer()).toBe(3)
    await cache.invalidate('a')
    expect(await cache.get('outer')).toBeUndefined()
    expect(await outer()).toBe(2) // inner-hit is gone too
    await cache.invalidate('b')
    expect(await cache.get('outer')).toBeUndefined()
  })

  it('nested calls: deleting an inner key drops entries built from it', async () => {
    const cache = await make()
    await cache.getOrSet('outer', () => cache.getOrSet('inner', () => 'x'))
    await cache.delete('inner')
    expect(await cache.get('outer')).toBeUndefined()
  })

  it('nested calls: invalidating one input does not stop the outer value from being cached again', async () => {
    const cache = await make()
    let version = 1
    const member = (id: number) =>
      cache.getOrSet(`user:${id}`, () => `user ${id} v${id === 2 ? version : 1}`, {
        tags: [`user:${id}`],
      })
    const team = () => cache.getOrSet('team', async () => [await member(1), await member(2)])
    await team()
    version = 2
    await cache.invalidate('user:2')
    // user:1 is still cached as of an older sequence; that must not void the new team entry.
    expect(await team()).toEqual(['user 1 v1', 'user 2 v2'])
    expect(await cache.get('team')).toEqual(['user 1 v1', 'user 2 v2'])
  })

  it('concurrent unrelated loaders keep their own tags', async () => {
    const cache = await make()
    const gates = [deferred<void>(), deferred<void>()]
    const load = (key: string, tag: string, gate: Promise<void>) =>
      cache.getOrSet(key, async () => {
        dependsOn(`${tag}:1`)
        await gate
        dependsOn(`${tag}:2`)
        await Promise.all([
          new Promise((resolve) => setTimeout(resolve, 1)).then(() => dependsOn(`${tag}:timer`)),
          Promise.resolve().then(() => dependsOn(`${tag}:branch`)),
        ])
        return key
      })
    const a = load('a', 'A', gates[0]!.promise)
    const b = load('b', 'B', gates[1]!.promise)
    gates[1]!.resolve()
    gates[0]!.resolve()
    await Promise.all([a, b])
    const tagsOf = async (key: string) =>
      (await cache.inspect(key))!.tags.filter((t) => !t.startsWith('@')).sort()
    expect(await tagsOf('a')).toEqual(['A:1', 'A:2', 'A:branch', 'A:timer'])
    expect(await tagsOf('b')).toEqual(['B:1', 'B:2', 'B:branch', 'B:timer'])
  })
})

describe('single flight', () => {
  it('100 concurrent callers run the loader once', async () => {
    const cache = createCache({ store: memoryStore() })
    const gate = deferred<string>()
    let runs = 0
    const callers = Array.from({ length: 100 }, () =>
      cache.getOrSet('k', () => {
        runs++
        return gate.promise
      }),
    )
    await settle()
    gate.resolve('v')
    expect(new Set(await Promise.all(callers))).toEqual(new Set(['v']))
    expect(runs).toBe(1)
  })

  it('a loader failure reaches every waiter unwrapped and is not cached', async () => {
    const cache = createCache()
    const failure = new Error('db down')
    const gate = deferred<string>()
    let runs = 0
    const loader = () => {
      runs++
      return gate.promise
    }
    const callers = Array.from({ length: 5 }, () => cache.getOrSet('k', loader))
    gate.reject(failure)
    for (const caller of callers) await expect(caller).rejects.toBe(failure)
    expect(runs).toBe(1)
    expect(await cache.getOrSet('k', () => 'ok')).toBe('ok')
  })

  it('a synchronous throw is a rejection, not a crash', async () => {
    const cache = createCache()
    const failure = new TypeError('bad')
    await expect(
      cache.getOrSet('k', () => {
        throw failure
      }),
    ).rejects.toBe(failure)
  })

  it("a waiter's abort stops only that waiter; the load goes on for the others", async () => {
    const cache = createCache()
    const gate = deferred<string>()
    let runs = 0
    const loader = () => {
      runs++
      return gate.promise
    }
    const controller = new AbortController()
    const leader = cache.getOrSet('k', loader, { signal: controller.signal }) // the leader gives up
    const others = [cache.getOrSet('k', loader), cache.getOrSet('k', loader)]
    await settle()
    controller.abort()
    await expect(leader).rejects.toMatchObject({ name: 'AbortError' })
    gate.resolve('v')
    expect(await Promise.all(others)).toEqual(['v', 'v'])
    expect(runs).toBe(1)
    expect(await cache.get('k')).toBe('v')
  })

  it('an already aborted signal rejects at once', async () => {
    const cache = createCache()
    const signal = AbortSignal.abort()
    await expect(cache.getOrSet('k', () => 'v', { signal })).rejects.toMatchObject({
      name: 'AbortError',
    })
  })

  it('if every waiter aborts and the loader fails, nothing is left unhandled', async () => {
    const cache = createCache()
    const gate = deferred<string>()
    const controller = new AbortController()
    const waiter = cache.getOrSet('k', () => gate.promise, { signal: controller.signal })
    controller.abort()
    await expect(waiter).rejects.toMatchObject({ name: 'AbortError' })
    gate.reject(new Error('nobody listens'))
    await settle()
    expect(await cache.getOrSet('k', () => 'next')).toBe('next')
  })

  it('undefined from a loader is returned but not cached; null is cached', async () => {
    const cache = createCache()
    let runs = 0
    await cache.getOrSet('u', () => {
      runs++
      return undefined
    })
    await cache.getOrSet('u', () => {
      runs++
      return undefined
    })
    expect(runs).toBe(2)
    await cache.getOrSet('n', () => null)
    expect(await cache.getOrSet('n', () => 'other')).toBeNull()
  })
})

describe('nesting across processes', () => {
  it("an outer value built from a stale inner value keeps the inner tags' age (no laundering)", async () => {
    const store = memoryStore()
    const a = createCache({ store })
    const b = createCache({ store })
    await a.getOrSet('inner', () => 'inner v1', { tags: ['x'] })
    // Another process invalidates x; without a bus, a's L1 has not heard of it yet.
    await b.invalidate('x')
    const outer = await a.getOrSet(
      'outer',
      async () => `outer(${await a.getOrSet('inner', () => 'inner v2', { tags: ['x'] })})`,
    )
    expect(outer).toBe('outer(inner v1)') // the allowed window: a's own L1 served it
    // But the outer entry is as old as its stale input for tag x: the shared tier refuses it,
    // so no other process (and not a itself, after its L1) can be served it.
    expect(await b.get('outer')).toBeUndefined()
    expect(await a.get('outer')).toBeUndefined()
  })
})
