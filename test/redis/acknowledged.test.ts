import { afterEach, describe, expect, inject, it } from 'vitest'

import type { Bus } from '../../src/bus/bus.js'
import { redisBus } from '../../src/redis/bus.js'
import type { Cache } from '../../src/cache/cache.js'
import { createCache } from '../../src/index.js'
import { redisStore } from '../../src/redis/store.js'
import type { Store, StoreInvalidateOptions } from '../../src/stores/store.js'
import { gatedBus } from '../helpers/gated-bus.js'
import { proxyTo } from '../helpers/tcp-proxy.js'
import { uniquePrefix } from '../helpers/tiers.js'

/**
 * `invalidate(tags, { ack: true })`: it resolves once every other process with a bus has applied
 * the invalidation, or has stopped trusting its L1 — so no process serves the old value after.
 * Each check reads right after the resolve, with no wait for the bus: without `ack` these reads
 * could be served by the other process's L1.
 */
const open: Cache[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((cache) => cache.close()))
})

const MAX_SILENCE_MS = 400

async function member(prefix: string, store = redisStore({ url: inject('redisUrl'), prefix })) {
  const bus = gatedBus(redisBus({ maxSilence: MAX_SILENCE_MS }))
  const cache = createCache({ store, bus })
  open.push(cache)
  await new Promise<void>((resolve) => {
    const trusted = () => (cache.off('bus:trusted', trusted), resolve())
    cache.on('bus:trusted', trusted)
  })
  return { cache, gate: bus.gate }
}

/** A cached value with tag `t` in `cache`'s L1; the loader counts its runs. */
async function warm(cache: Cache) {
  let loads = 0
  const read = () => cache.getOrSet('k', () => ++loads, { tags: ['t'] })
  expect(await read()).toBe(1)
  expect(await read()).toBe(1) // an L1 hit
  return read
}

describe('acknowledged invalidation', () => {
  it('resolves once every other process applied it: none serves the old value', async () => {
    const prefix = uniquePrefix()
    const [a, b, c] = [await member(prefix), await member(prefix), await member(prefix)]
    const [readB, readC] = [await warm(b.cache), await warm(c.cache)]
    const result = await a.cache.invalidate('t', { ack: true })
    expect(result.fleet).toMatchObject({ members: 2, acked: 2, late: [] })
    expect(result.fleet!.waitedMs).toBeLessThan(MAX_SILENCE_MS)
    expect(await readB()).toBe(2)
    expect(await readC()).toBe(2)
  })

  it('a process that cannot hear the bus is waited for until maxSilence, then reported late', async () => {
    const prefix = uniquePrefix()
    const [a, b] = [await member(prefix), await member(prefix)]
    const readB = await warm(b.cache)
    b.gate.hold() // b hears nothing: the step and the request stay held
    const result = await a.cache.invalidate('t', { ack: true })
    expect(result.fleet?.members).toBe(1)
    expect(result.fleet?.late).toHaveLength(1)
    expect(result.fleet!.waitedMs).toBeGreaterThanOrEqual(MAX_SILENCE_MS - 5)
    // b has been silent for maxSilence by now: it distrusts its L1 and asks the store.
    expect(await readB()).toBe(2)
    b.gate.release()
  })

  it('a process that missed the step acknowledges once it made it up from the log', async () => {
    const prefix = uniquePrefix()
    const [a, b] = [await member(prefix), await member(prefix)]
    const readB = await warm(b.cache)
    b.gate.dropNextSteps(1) // the step is lost on its way to b; the request is not
    const result = await a.cache.invalidate('t', { ack: true })
    expect(result.fleet).toMatchObject({ members: 1, acked: 1, late: [] })
    expect(b.cache.stats().bus?.replayed).toBeGreaterThanOrEqual(1)
    expect(await readB()).toBe(2)
  })

  it('without a bus there is no one to ask: it resolves as a plain invalidate', async () => {
    const cache = createCache({
      store: redisStore({ url: inject('redisUrl'), prefix: uniquePrefix() }),
    })
    open.push(cache)
    const result = await cache.invalidate('t', { ack: true })
    expect(result.fleet).toBeUndefined()
    expect(result.seq).toBeGreaterThan(0)
  })

  it('a member that closed has left: nobody waits for it', async () => {
    const prefix = uniquePrefix()
    const [a, b] = [await member(prefix), await member(prefix)]
    await b.cache.close()
    open.splice(open.indexOf(b.cache), 1)
    const result = await a.cache.invalidate('t', { ack: true })
    expect(result.fleet).toMatchObject({ members: 0, acked: 0, late: [] })
    expect(result.fleet!.waitedMs).toBeLessThan(MAX_SILENCE_MS / 2)
  })

  it('answers complete before the asker has its own reply are not missed', async () => {
    // The request goes out with the step: the fleet may answer before the asker hears back.
    const proxy = await proxyTo(inject('redisUrl'))
    try {
      const prefix = uniquePrefix()
      let noticed!: () => void
      const notice = new Promise<void>((resolve) => (noticed = resolve))
      // The asker's store replies through the proxy, its bus directly; its bus tells the test
      // when the notice that every member answered arrives.
      const bus = noticing(redisBus({ url: inject('redisUrl'), maxSilence: MAX_SILENCE_MS }), () =>
        noticed(),
      )
      // Its step waits for its reply as long as the fleet takes to answer, however busy the machine.
      const a = createCache({
        store: redisStore({ url: proxy.url, prefix }),
        bus,
        storeTimeout: { invalidate: '30s' },
      })
      open.push(a)
      await new Promise<void>((resolve) => {
        const trusted = () => (a.off('bus:trusted', trusted), resolve())
        a.on('bus:trusted', trusted)
      })
      const b = await member(prefix)
      const readB = await warm(b.cache)
      proxy.holdReplies()
      const acked = a.invalidate('t', { ack: true })
      await notice
      proxy.resume()
      const { fleet } = await acked
      expect(fleet).toMatchObject({ members: 1, acked: 1, late: [] })
      expect(fleet!.waitedMs).toBeLessThan(MAX_SILENCE_MS)
      expect(await readB()).toBe(2)
    } finally {
      await proxy.close()
    }
  })

  it('a store that does not send the request with its step: the bus asks on its own', async () => {
    const prefix = uniquePrefix()
    const [a, b] = [
      await member(prefix, withoutAckRequests(redisStore({ url: inject('redisUrl'), prefix }))),
      await member(prefix),
    ]
    const readB = await warm(b.cache)
    const result = await a.cache.invalidate('t', { ack: true })
    expect(result.fleet).toMatchObject({ members: 1, acked: 1, late: [], membersKnown: true })
    expect(result.fleet!.waitedMs).toBeLessThan(MAX_SILENCE_MS)
    expect(await readB()).toBe(2)
  })
})

/** `inner`, but calling `onAcked` when the notice that a request of its own is answered comes. */
function noticing(inner: Bus, onAcked: () => void): Bus {
  return {
    name: inner.name,
    maxSilenceMs: inner.maxSilenceMs,
    connect: (store, handlers) =>
      inner.connect(store, {
        ...handlers,
        acked: (seq) => {
          handlers.acked(seq)
          onAcked()
        },
      }),
  }
}

/** A real Redis store that drops the acknowledgement request its invalidations are sent with. */
function withoutAckRequests<S extends Store>(store: S): S {
  return new Proxy(store, {
    get(target, property) {
      if (property === 'invalidate') {
        return (tags: readonly string[], options: StoreInvalidateOptions = {}) => {
          const { ack: _dropped, ...rest } = options
          return target.invalidate(tags, rest)
        }
      }
      const value: unknown = Reflect.get(target, property, target)
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value
    },
  })
}
