import { afterEach, describe, expect, inject, it } from 'vitest'

import { redisBus } from '../../src/redis/bus.js'
import type { Cache } from '../../src/cache/cache.js'
import { createCache, isCacheError, memoryStore } from '../../src/index.js'
import { redisStore } from '../../src/redis/store.js'
import { faultyStore } from '../../src/testing/index.js'
import { deferred, until } from '../helpers/deferred.js'
import { gatedBus } from '../helpers/gated-bus.js'
import { trusted, uniquePrefix } from '../helpers/tiers.js'

const open: Cache[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((cache) => cache.close()))
})

/** Blocks the event loop: no timer, no I/O, as in a paused or starved process. */
function block(ms: number): void {
  const until = Date.now() + ms
  while (Date.now() < until) {
    // spin
  }
}

describe('a process that could not run for longer than maxSilence', () => {
  it('serves no L1 hit before it caught up, even before any of its timers ran', async () => {
    const prefix = uniquePrefix()
    const bus = gatedBus(redisBus({ maxSilence: '100ms' }))
    const a = await trusted(
      createCache({ store: redisStore({ url: inject('redisUrl'), prefix }), bus }),
    )
    const b = createCache({ store: redisStore({ url: inject('redisUrl'), prefix }) })
    open.push(a, b)
    await a.set('k', 'old', { tags: ['t'] })
    expect(await a.get('k')).toBe('old')
    const hits = a.stats().l1.hits
    bus.gate.hold() // the message will not reach a in time
    await b.invalidate('t')
    block(150)
    // The first thing a does after the block: a read. Its silence timer has not run yet.
    expect(await a.get('k')).toBeUndefined()
    expect(a.stats().l1.hits).toBe(hits)
    bus.gate.release()
  })
})

describe('invalidations the store did not record', () => {
  it('a repeated rejected invalidation still keeps later callers off a load that began before it', async () => {
    const store = faultyStore(memoryStore())
    const cache = createCache({ store })
    open.push(cache)
    let row = 1
    const gate = deferred<void>()
    store.faults.set({ operations: ['invalidate'], error: true })
    await expect(cache.invalidate('t')).rejects.toSatisfy((e: unknown) =>
      isCacheError(e, 'E_INVALIDATION_NOT_RECORDED'),
    )
    let reads = 0
    const loader = async () => {
      const seen = row // reads the source first, then takes its time
      reads++
      await gate.promise
      return seen
    }
    const first = cache.getOrSet('k', loader, { tags: ['t'] })
    await until(() => reads === 1)
    row = 2 // a write commits...
    await cache.invalidate('t').catch(() => {}) // ...and its invalidation is rejected again
    const second = cache.getOrSet('k', loader, { tags: ['t'] })
    gate.resolve()
    expect(await first).toBe(1)
    expect(await second).toBe(2) // not the load that read row 1
  })
})
