import { Redis } from 'ioredis'
import { afterEach, describe, expect, inject, it } from 'vitest'

import type { BusMessage } from '../../src/bus/bus.js'
import { redisBus } from '../../src/redis/bus.js'
import type { Cache } from '../../src/cache/cache.js'
import type { Duration } from '../../src/util/duration.js'
import { createCache, memoryStore } from '../../src/index.js'
import type { RedisStore } from '../../src/redis/store.js'
import { redisStore } from '../../src/redis/store.js'
import { next } from '../helpers/cache-events.js'
import { gatedBus } from '../helpers/gated-bus.js'
import { redisClient, rewindState, uniquePrefix } from '../helpers/tiers.js'

const open: Cache[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((cache) => cache.close()))
})

/**
 * A cache as one process of a fleet would have it: its own store client and a gated Redis bus.
 * Resolves once the bus vouches for it.
 */
async function member(
  prefix: string,
  options: { l1?: false; maxSilence?: Duration; maxTags?: number } = {},
) {
  const redis = redisBus({ maxSilence: options.maxSilence ?? '10s' })
  const bus = gatedBus(redis)
  const store = redisStore({ url: inject('redisUrl'), prefix }) as RedisStore
  const cache = createCache({
    store,
    bus,
    ...(options.l1 === false ? { l1: false } : {}),
    ...(options.maxTags === undefined ? {} : { maxTags: options.maxTags }),
  })
  open.push(cache)
  await next(cache, 'bus:trusted')
  return { cache, gate: bus.gate, store, redis }
}

const stepOf = (seq: number) => (m: BusMessage) => m.kind !== 'heartbeat' && m.seq === seq

/**
 * Resolves once a member's gate let through a step it takes now, so every step before it (its
 * own quiet ones aside, which are never published) went through too.
 */
async function heard(m: {
  cache: Cache
  gate: { until(match: (m: BusMessage) => boolean): Promise<BusMessage> }
}) {
  const { seq } = await m.cache.invalidate('heard')
  await m.gate.until(stepOf(seq))
}

describe('redis bus', () => {
  it('an invalidation in one process drops the entry from every other L1', async () => {
    const prefix = uniquePrefix()
    const [a, b] = [await member(prefix), await member(prefix)]
    let loads = 0
    const load = () => ++loads
    expect(await b.cache.getOrSet('k', load, { tags: ['t'] })).toBe(1)
    expect(await b.cache.getOrSet('k', load, { tags: ['t'] })).toBe(1)
    expect(b.cache.stats().l1.hits).toBe(1)
    const { seq } = await a.cache.invalidate('t')
    await b.gate.until(stepOf(seq))
    expect(await b.cache.getOrSet('k', load, { tags: ['t'] })).toBe(2)
  })

  it('a set in one process replaces the value in every other L1', async () => {
    const prefix = uniquePrefix()
    const [a, b] = [await member(prefix), await member(prefix)]
    const ofK = (m: BusMessage) => m.tags.includes('@key:cg::k')
    // The first set of a key no entry carried is quiet (nobody can hold anything built on it);
    // once stored, the key is known and the next set is heard everywhere.
    await b.cache.set('k', 'old')
    expect(await b.cache.get('k')).toBe('old')
    await a.cache.set('k', 'new')
    // a's step (b's own set may have been heard too: a state's first step is never quiet).
    const theirs = await b.gate.until((m) => ofK(m) && m.origin === a.store.origin)
    expect(theirs.kind).toBe('hard')
    expect(await b.cache.get('k')).toBe('new')
  })

  it('past maxTags superseding sets elsewhere, an older L1 entry is read from the shared tier again', async () => {
    const prefix = uniquePrefix()
    const [a, b] = [await member(prefix, { maxTags: 100 }), await member(prefix, { maxTags: 100 })]
    // Each key twice: the first set of a key no entry carried is quiet, the second is heard.
    const setsElsewhere = async (from: number, count: number) => {
      for (let i = from; i < from + count; i++) {
        await a.cache.set(`k${i}`, i)
        await a.cache.set(`k${i}`, -i)
      }
      const last = `@key:cg::k${from + count - 1}`
      await b.gate.until((m) => m.tags.includes(last))
    }
    const tiers = () => ({ l1: b.cache.stats().l1.hits, l2: b.cache.stats().l2.hits })
    await b.cache.set('x', 'kept', { tags: ['t'] })
    const start = tiers()
    // Fewer records than the bound: the entry is judged by them, an L1 hit.
    await setsElsewhere(0, 50)
    expect(await b.cache.get('x')).toBe('kept')
    expect(tiers()).toEqual({ l1: start.l1 + 1, l2: start.l2 })
    // 100 more: the oldest records are forgotten and the floor passes the entry's start. It is
    // not served from L1 on what this process no longer knows; the store still has the records.
    await setsElsewhere(50, 100)
    expect(await b.cache.get('x')).toBe('kept')
    expect(tiers()).toEqual({ l1: start.l1 + 1, l2: start.l2 + 1 })
    expect(b.cache.stats().l1.knownTags).toBeLessThanOrEqual(100)
  })

  it('serves no L1 hit before the bus vouched for the process', async () => {
    const prefix = uniquePrefix()
    const bus = gatedBus(redisBus())
    bus.gate.hold()
    const cache = createCache({ store: redisStore({ client: redisClient(), prefix }), bus })
    open.push(cache)
    await cache.set('k', 1)
    expect(await cache.get('k')).toBe(1)
    expect(cache.stats().l1.hits).toBe(0)
    const trusted = next(cache, 'bus:trusted')
    bus.gate.release()
    await trusted
    // Trusted from the first heartbeat on: what was kept before is read again once, then hits.
    expect(await cache.get('k')).toBe(1)
    expect(await cache.get('k')).toBe(1)
    expect(cache.stats().l1.hits).toBe(1)
  })

  it('a lost message is replayed from the log; the rest of the L1 is kept', async () => {
    const prefix = uniquePrefix()
    const [a, b] = [await member(prefix), await member(prefix)]
    await b.cache.set('kept', 'k', { tags: ['other'] })
    await b.cache.set('gone', 'g', { tags: ['t'] })
    await heard(b) // b's own steps so far went through its gate
    b.gate.dropNextSteps(1)
    const first = await a.cache.invalidate('t') // dropped on its way to b
    const synced = next(b.cache, 'bus:sync')
    const second = await a.cache.invalidate('unrelated') // b sees a gap
    await b.gate.until(stepOf(second.seq))
    expect(await synced).toEqual({ seq: second.seq, replayed: 2, startedOver: false })
    expect(first.seq).toBe(second.seq - 1)
    expect(await b.cache.get('gone')).toBeUndefined()
    const hits = b.cache.stats().l1.hits
    expect(await b.cache.get('kept')).toBe('k')
    expect(b.cache.stats().l1.hits).toBe(hits + 1)
  })

  it('a gap the log cannot fill drops the L1 and starts over, without reviving anything', async () => {
    const prefix = uniquePrefix()
    const [a, b] = [await member(prefix), await member(prefix)]
    await b.cache.set('kept', 'k', { tags: ['other'] })
    await b.cache.set('gone', 'g', { tags: ['t'] })
    await heard(b)
    b.gate.dropNextSteps(1)
    await a.cache.invalidate('t')
    await redisClient().del(`{${prefix}}:log`)
    const synced = next(b.cache, 'bus:sync')
    await a.cache.invalidate('unrelated')
    expect((await synced).startedOver).toBe(true)
    expect(await b.cache.get('gone')).toBeUndefined()
    // Still in Redis and valid: read again through the store's check, not revived from L1.
    const hits = b.cache.stats().l1.hits
    expect(await b.cache.get('kept')).toBe('k')
    expect(b.cache.stats().l1.hits).toBe(hits)
  })

  it('a killed subscription is noticed; what was missed meanwhile is made up', async () => {
    const prefix = uniquePrefix()
    const [a, b] = [await member(prefix), await member(prefix)]
    await b.cache.set('gone', 'g', { tags: ['t'] })
    expect(await b.cache.get('gone')).toBe('g')
    const distrusted = next(b.cache, 'bus:distrusted')
    const admin = redisClient()
    const list = (await admin.client('LIST')) as string
    const line = list.split('\n').find((l) => l.includes(`name=${b.redis.clientName}`))
    const id = /\bid=(\d+)/.exec(line ?? '')?.[1]
    expect(id).toBeDefined()
    await admin.client('KILL', 'ID', id as string)
    expect(await distrusted).toEqual({ reason: 'lost' })
    const trustedAgain = next(b.cache, 'bus:trusted')
    // Likely missed by b: its subscription is down until it reconnects.
    await a.cache.invalidate('t')
    expect(await b.cache.get('gone')).toBeUndefined()
    await trustedAgain
    expect(await b.cache.get('gone')).toBeUndefined()
  })

  it('silence past maxSilence distrusts the L1 until a heartbeat gets through', async () => {
    const prefix = uniquePrefix()
    const b = await member(prefix, { maxSilence: '100ms' })
    await b.cache.set('k', 1)
    expect(await b.cache.get('k')).toBe(1)
    const hits = b.cache.stats().l1.hits
    b.gate.hold()
    expect(await next(b.cache, 'bus:distrusted')).toEqual({ reason: 'silence' })
    expect(await b.cache.get('k')).toBe(1) // from Redis, checked there
    expect(b.cache.stats().l1.hits).toBe(hits)
    const trusted = next(b.cache, 'bus:trusted')
    b.gate.release()
    await trusted
    expect(await b.cache.get('k')).toBe(1)
    expect(b.cache.stats().l1.hits).toBe(hits + 1)
  })

  it('a store that lost its state (FLUSHDB) is noticed through the bus: L1 dropped', async () => {
    const prefix = uniquePrefix()
    const [a, b] = [await member(prefix), await member(prefix)]
    await b.cache.set('k', 'old', { tags: ['t'] })
    expect(await b.cache.get('k')).toBe('old')
    const reset = next(b.cache, 'store:reset')
    const admin = redisClient()
    await admin.del(`{${prefix}}:seq`, `{${prefix}}:epoch`, `{${prefix}}:floor`, `{${prefix}}:h`)
    await a.cache.invalidate('unrelated') // the first step of a new epoch
    await reset
    // The entry is still in Redis, written in the lost epoch: nothing can vouch for it now.
    expect(await b.cache.get('k')).toBeUndefined()
  })

  it('a sequence that goes backwards (a restored snapshot) starts over', async () => {
    const prefix = uniquePrefix()
    const [a, b] = [await member(prefix), await member(prefix)]
    await b.cache.set('k', 'v', { tags: ['t'] })
    const { seq } = await a.cache.invalidate('x')
    await b.gate.until(stepOf(seq))
    const reset = next(b.cache, 'store:reset')
    await rewindState(prefix, seq - 10)
    await a.cache.invalidate('y')
    expect((await reset).seq).toBe(seq - 9)
  })

  it('with a trusted bus, an L2 read is one MGET and no script', async () => {
    const prefix = uniquePrefix()
    const b = await member(prefix, { l1: false })
    await b.cache.set('k', { n: 1 }, { tags: ['t'] })
    const monitor = await new Redis(inject('redisUrl')).monitor()
    const seen: string[] = []
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      const heartbeat = args[0]?.toLowerCase() === 'evalsha' && args[3] === `{${prefix}}:seq`
      if (source.startsWith('lua') || heartbeat) return
      if (args.some((arg) => arg.includes(prefix))) seen.push(args[0]?.toLowerCase() ?? '')
    })
    try {
      await new Promise((resolve) => setTimeout(resolve, 50))
      seen.length = 0
      expect(await b.cache.get('k')).toEqual({ n: 1 })
      expect(await b.cache.get('missing')).toBeUndefined()
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect(seen).toEqual(['mget', 'mget'])
    } finally {
      monitor.disconnect()
    }
  })

  it('rejects a bus without a store, on a memory store, shared by two caches, or badly set', () => {
    expect(() => createCache({ bus: redisBus() })).toThrow(/bus/)
    expect(() => createCache({ store: memoryStore(), bus: redisBus() })).toThrow(/bus.*Redis store/)
    const bus = redisBus()
    const store = () => redisStore({ client: redisClient(), prefix: uniquePrefix() })
    open.push(createCache({ store: store(), bus }))
    expect(() => createCache({ store: store(), bus })).toThrow(/already used/)
    expect(() => redisBus({ maxSilence: '5ms' })).toThrow(/bus.maxSilence/)
    expect(() => redisBus({ port: 1 } as never)).toThrow(/bus.port/)
  })
})
