import { Redis } from 'ioredis'
import { afterEach, describe, expect, inject, it } from 'vitest'

import { createCache } from '../../src/index.js'
import { redisStore } from '../../src/redis/store.js'
import type { Cache } from '../../src/cache/cache.js'
import {
  barrier,
  closeFleet,
  events,
  heartbeat,
  keep,
  keyTag,
  member,
  mentioning,
  next,
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
 * This file: the bus around quiet steps (no gap, heartbeats, replay, lost state, reads judged
 * by a listener).
 */
afterEach(closeFleet)

/**
 * After one gap made up from the log (no start-over): the entry of the lost step is gone, and
 * the rest of the L1 still serves hits.
 */
async function expectReplayed(cache: Cache, syncs: readonly { startedOver: boolean }[]) {
  expect(syncs.map((sync) => sync.startedOver)).toEqual([false])
  expect(await cache.get('gone')).toBeUndefined()
  const hits = cache.stats().l1.hits
  expect(await cache.get('kept')).toBe('k')
  expect(cache.stats().l1.hits).toBe(hits + 1)
  expect(cache.stats().bus).toMatchObject({ trusted: true, gaps: 1 })
}

describe('quiet steps: the bus around them', () => {
  it('quiet sets among published invalidations cause no gap: every member stays trusted and in step', async () => {
    const { a, b, bus } = await quietPair()
    const before = { a: a.cache.stats().bus, b: b.cache.stats().bus }
    const ROUNDS = 4
    // Entries in b's L1 that the published invalidations reach.
    for (let i = 0; i < ROUNDS; i++) await b.cache.set(`e${i}`, i, { tags: [`t${i}`] })

    for (let i = 0; i < ROUNDS; i++) {
      for (let j = 0; j < 5; j++) await a.cache.set(`fresh-${i}-${j}`, j)
      // Sent in one tick: one script, so quiet steps and a published one share one message.
      await Promise.all([
        a.cache.set(`tick-${i}-x`, 'x'),
        a.cache.set(`tick-${i}-y`, 'y'),
        a.cache.invalidate(`t${i}`),
      ])
    }
    const fence = await barrier(a.cache, bus)
    const fenceSeq = fence.steps.at(-1)?.seq

    for (const [name, cache] of [
      ['a', a.cache],
      ['b', b.cache],
    ] as const) {
      expect(cache.stats().bus, name).toMatchObject({
        trusted: true,
        gaps: 0,
        startOvers: before[name]?.startOvers,
        distrusts: before[name]?.distrusts,
        seq: fenceSeq,
      })
    }
    for (let i = 0; i < ROUNDS; i++) expect(await b.cache.get(`e${i}`)).toBeUndefined()
    // Not one key tag went out: every set was of a fresh key.
    const published = bus.seen.flatMap((m) => m.steps).filter((step) => step.kind !== '-')
    expect(published.flatMap((step) => step.tags).filter((t) => t.startsWith('@key:'))).toEqual([])
    // Each tick's message: the two quiet steps, tagless, then the invalidation.
    for (let i = 0; i < ROUNDS; i++) {
      const message = await bus.until(mentioning(`t${i}`))
      expect(message.kinds).toBe('--h')
      expect(message.steps.slice(0, 2).map((step) => step.tags)).toEqual([[], []])
    }
  })

  it('a heartbeat after quiet steps brings a listener up to it without a gap', async () => {
    const prefix = uniquePrefix()
    const [a, b] = [await member(prefix), await member(prefix)]
    // No step of a state is quiet before one was published.
    const { seq: first } = await a.cache.invalidate('start')
    await b.gate.until((m) => m.kind !== 'heartbeat' && m.seq === first)

    await a.cache.set('fresh-1', 1)
    await a.cache.set('fresh-2', 2)
    const beat = await heartbeat(prefix)
    expect(beat).toBe(await recorded(prefix, keyTag('fresh-2')))
    await b.gate.until((m) => m.kind === 'heartbeat' && m.seq === beat)

    // b heard no step after the first, yet it is in step up to the heartbeat: they were quiet.
    expect(b.gate.delivered.filter((m) => m.kind !== 'heartbeat').map((m) => m.seq)).toEqual([
      first,
    ])
    expect(b.cache.stats().bus).toMatchObject({ trusted: true, gaps: 0, seq: beat })
  })

  it('a lost step is replayed across the quiet steps around it; the rest of the L1 is kept', async () => {
    const { a, b, bus } = await quietPair()
    const syncs = events(b.cache, 'bus:sync')
    await b.cache.set('kept', 'k', { tags: ['other'] })
    await b.cache.set('gone', 'g', { tags: ['t'] })
    await a.cache.set('fresh-1', 1)
    await barrier(a.cache, bus) // b has everything so far: the next step it is sent is a's

    b.gate.dropNextSteps(1)
    await a.cache.invalidate('t') // lost on its way to b
    await a.cache.set('fresh-2', 2)
    await a.cache.set('fresh-3', 3)
    const { seq } = await a.cache.invalidate('unrelated') // follows on from the lost one
    await b.gate.until((m) => m.kind !== 'heartbeat' && m.seq === seq)
    expect(b.cache.stats().bus?.gaps).toBe(1)
    await barrier(a.cache, bus)

    // The steps around the lost one were quiet: the gap is bridged by the log alone.
    expect(['fresh-1', 'fresh-2', 'fresh-3'].some((k) => bus.mentions(keyTag(k)))).toBe(false)
    await expectReplayed(b.cache, syncs)
  })

  it('a lost step followed by quiet steps alone is noticed by a heartbeat and replayed', async () => {
    const { prefix, a, b, bus } = await quietPair()
    const syncs = events(b.cache, 'bus:sync')
    await b.cache.set('kept', 'k', { tags: ['other'] })
    await b.cache.set('gone', 'g', { tags: ['t'] })
    await barrier(a.cache, bus)

    b.gate.dropNextSteps(1)
    await a.cache.invalidate('t') // lost on its way to b
    await a.cache.set('fresh', 1)
    const beat = await heartbeat(prefix)
    await b.gate.until((m) => m.kind === 'heartbeat' && m.seq === beat)
    // The heartbeat follows on from the lost step, not from what b applied: a gap, not quiet steps.
    expect(b.cache.stats().bus?.gaps).toBe(1)
    await barrier(a.cache, bus)

    expect(bus.mentions(keyTag('fresh'))).toBe(false)
    await expectReplayed(b.cache, syncs)
  })

  it('a store that lost its state says so at once: the set that finds the loss is heard, not quiet', async () => {
    const { prefix, a, b, bus } = await quietPair()
    await a.cache.set('k', 'old')
    await barrier(a.cache, bus)
    expect(await b.cache.get('k')).toBe('old')
    const resets = events(b.cache, 'store:reset')
    // Lost records (evicted, say): the next script starts a new epoch. {P}:k starts empty, but
    // no step of a new state is quiet until one was published: the set is heard.
    await redisClient().del(`{${prefix}}:h`)
    // A writer without a bus, so nothing but the set's own script can tell the fleet (a member
    // that learns of a loss from a reply also joins again and sends a heartbeat).
    const writer = createCache({ store: redisStore({ url: inject('redisUrl'), prefix }) })
    keep(writer)
    await writer.set('k', 'new')
    // A malformed message on the channel, published after the set's script returned: once b
    // reports it, b has received whatever that script published.
    const heard = next(b.cache, 'error', (e) => e.operation === 'bus')
    await redisClient().publish(`{${prefix}}:bus`, 'sentinel')
    await heard
    expect(resets).toHaveLength(1)
    expect(await b.cache.get('k')).toBe('new')
  })

  it('quiet steps elsewhere leave a listener judging shared-tier reads itself: one MGET, no script', async () => {
    const prefix = uniquePrefix()
    const [a, b] = [await member(prefix), await member(prefix, { l1: false })]
    const bus = await watchBus(prefix)
    await barrier(a.cache, bus) // no step of a state is quiet before one was published
    await b.cache.set('k', 'v')
    await barrier(a.cache, bus)
    // The store's sequence moves past every step b heard; what it published does not.
    await a.cache.set('new-1', 1)
    await a.cache.set('new-2', 2)
    const monitor = await new Redis(inject('redisUrl')).monitor()
    const seen: string[] = []
    const marker = `${prefix}-marker`
    let markerSeen: () => void = () => {}
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (args[1] === marker) return markerSeen()
      if (source.startsWith('lua')) return
      if (args.some((arg) => arg.includes(prefix))) seen.push(args[0]?.toLowerCase() ?? '')
    })
    // Resolves once the monitor reported a command sent now: everything before it was reported.
    const reported = () => {
      const done = new Promise<void>((resolve) => (markerSeen = resolve))
      void redisClient().exists(marker)
      return done
    }
    try {
      await reported()
      seen.length = 0
      expect(await b.cache.get('k')).toBe('v')
      await reported()
      expect(seen).toEqual(['mget'])
    } finally {
      monitor.disconnect()
    }
  })
})
