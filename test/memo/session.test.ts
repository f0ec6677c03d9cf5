import { describe, expect, it } from 'vitest'

import { createCache, isCacheError, memoryStore } from '../../src/index.js'
import { deferred, settle } from '../helpers/deferred.js'

describe('sessions', () => {
  const setup = () => {
    const store = memoryStore()
    const cache = createCache({ store })
    let reads = 0
    const privateCart = cache.wrap(
      async (user: string) => {
        reads++
        return { user, items: [`item of ${user}`] }
      },
      { name: 'cart', scope: 'session' },
    )
    return { cache, store, privateCart, reads: () => reads }
  }

  it('scope: session outside a session throws E_NO_SESSION', async () => {
    const { privateCart } = setup()
    const error: unknown = await privateCart('u1').catch((e: unknown) => e)
    expect(isCacheError(error, 'E_NO_SESSION')).toBe(true)
  })

  it('session entries are cached within the session, private to it, L1 only, dropped at its end', async () => {
    const { cache, store, privateCart, reads } = setup()
    await cache.session('s1', async () => {
      await privateCart('u1')
      await privateCart('u1')
    })
    expect(reads()).toBe(1)
    expect(store.size).toBe(0) // never reached the shared tier
    await cache.session('s2', async () => {
      await privateCart('u1') // another session does not see s1's entry
    })
    expect(reads()).toBe(2)
    await cache.session('s1', async () => {
      await privateCart('u1') // s1 ended: its entries are gone
    })
    expect(reads()).toBe(3)
  })

  it('nested and concurrent calls with one id share the session; it ends with the last', async () => {
    const { cache, privateCart, reads } = setup()
    const gate = deferred<void>()
    const outer = cache.session('s', async () => {
      await privateCart('u')
      await cache.session('s', async () => privateCart('u'))
      await gate.promise
    })
    await settle()
    await cache.session('s', async () => privateCart('u')) // concurrent, same session
    expect(reads()).toBe(1)
    gate.resolve()
    await outer
    await cache.session('s', async () => privateCart('u'))
    expect(reads()).toBe(2)
  })

  it('an entry built from a session-scoped value is session-scoped too (never global)', async () => {
    const { cache, store, privateCart } = setup()
    let summaries = 0
    const summary = cache.wrap(
      async (user: string) => {
        summaries++
        return `summary of ${(await privateCart(user)).items.join()}`
      },
      { name: 'summary' }, // global by default...
    )
    await cache.session('s1', async () => {
      expect(await summary('u1')).toBe('summary of item of u1')
      await summary('u1') // cached for s1
    })
    expect(summaries).toBe(1)
    expect(store.size).toBe(0) // ... but it never reached the shared tier
    expect(await summary.peek('u1')).toBeUndefined() // nor the global L1
    await cache.session('s2', async () => summary('u1'))
    expect(summaries).toBe(2)
  })

  it('also from a session-scoped hit', async () => {
    const { cache, store, privateCart } = setup()
    const summary = cache.wrap(async (user: string) => (await privateCart(user)).user, {
      name: 'summary',
    })
    await cache.session('s1', async () => {
      await privateCart('u1') // cached first: the outer call below sees a hit
      await summary('u1')
    })
    expect(store.size).toBe(0)
  })

  it('global entries stay shared across sessions and outside', async () => {
    const { cache, store } = setup()
    let runs = 0
    const shared = cache.wrap(async () => ++runs, { name: 'shared' })
    await cache.session('a', async () => shared())
    await cache.session('b', async () => shared())
    await shared()
    expect(runs).toBe(1)
    expect(store.size).toBe(1)
  })

  it('invalidations reach session entries', async () => {
    const { cache, privateCart, reads } = setup()
    await cache.session('s', async () => {
      await privateCart('u1')
      await privateCart.invalidate('u1')
      await privateCart('u1')
    })
    expect(reads()).toBe(2)
  })
})

describe('loop detection', () => {
  const tool = (cache: ReturnType<typeof createCache>) => {
    let runs = 0
    const search = cache.wrap(async (q: string) => `results for ${q} #${++runs}`, {
      name: 'search',
    })
    return { search, runs: () => runs }
  }

  it('maxRepeats: the same call past the limit (hits count) raises E_LOOP_DETECTED', async () => {
    const cache = createCache()
    const { search } = tool(cache)
    const loops: unknown[] = []
    cache.on('loop', (e) => loops.push(e))
    const error: unknown = await cache
      .session(
        'agent',
        async () => {
          for (let i = 0; i < 10; i++) await search('cats')
        },
        { loopDetection: { maxRepeats: 3 } },
      )
      .catch((e: unknown) => e)
    expect(isCacheError(error, 'E_LOOP_DETECTED')).toBe(true)
    expect(loops).toEqual([{ session: 'agent', key: 'cg::search:["cats"]', kind: 'repeat' }])
  })

  it('oscillation: A B A B is a loop', async () => {
    const cache = createCache()
    const { search } = tool(cache)
    const calls: string[] = []
    const error: unknown = await cache
      .session(
        'agent',
        async () => {
          for (const q of ['a', 'b', 'a', 'b', 'a']) calls.push(await search(q))
        },
        { loopDetection: true },
      )
      .catch((e: unknown) => e)
    expect(isCacheError(error, 'E_LOOP_DETECTED')).toBe(true)
    expect(calls).toHaveLength(3)
  })

  it('maxDepth: cached calls nested too deep', async () => {
    const cache = createCache()
    const deep: (n: number) => Promise<number> = cache.wrap(
      async (n: number) => (n === 0 ? 0 : 1 + (await deep(n - 1))),
      {
        name: 'deep',
      },
    )
    await expect(
      cache.session('s', () => deep(10), { loopDetection: { maxDepth: 20 } }),
    ).resolves.toBe(10)
    await expect(
      cache.session('s', () => deep(30), { loopDetection: { maxDepth: 20 } }),
    ).rejects.toMatchObject({
      code: 'E_LOOP_DETECTED',
    })
  })

  it("onLoop 'warn' carries on and emits; 'shortCircuit' answers with the last value", async () => {
    const cache = createCache()
    const { search, runs } = tool(cache)
    const loops: unknown[] = []
    cache.on('loop', (e) => loops.push(e.kind))
    await cache.session(
      'w',
      async () => {
        for (let i = 0; i < 4; i++) await search('x')
      },
      { loopDetection: { maxRepeats: 2, onLoop: 'warn' } },
    )
    expect(loops).toEqual(['repeat', 'repeat'])
    const fresh = createCache()
    const t = tool(fresh)
    const answers = await fresh.session(
      'sc',
      async () => {
        const out: string[] = []
        for (let i = 0; i < 4; i++) out.push(await t.search('y'))
        return out
      },
      { loopDetection: { maxRepeats: 2, onLoop: 'shortCircuit' } },
    )
    expect(new Set(answers).size).toBe(1)
    expect(t.runs()).toBe(1)
    expect(runs()).toBe(1)
  })

  it('rejects bad loop options by name', async () => {
    const cache = createCache()
    await expect(cache.session('s', () => 1, { loopDetection: { maxRepeats: 0 } })).rejects.toThrow(
      /loopDetection.maxRepeats/,
    )
  })
})
