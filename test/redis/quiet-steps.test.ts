import { Redis } from 'ioredis'
import { afterEach, describe, expect, inject, it } from 'vitest'

import type { Cache } from '../../src/cache/cache.js'
import type { CacheEventName, CacheEvents } from '../../src/cache/events.js'
import { createCache } from '../../src/index.js'
import { redisBus } from '../../src/redis/bus.js'
import { HEARTBEAT } from '../../src/redis/scripts.js'
import type { RedisStore } from '../../src/redis/store.js'
import { redisStore } from '../../src/redis/store.js'
import { deferred } from '../helpers/deferred.js'
import { gatedBus } from '../helpers/gated-bus.js'
import { redisClient, uniquePrefix } from '../helpers/tiers.js'

/**
 * Quiet steps: a superseding `set` of a key that no stored entry ever carried (as its own key tag
 * or as a dependency) takes its step, records and logs it, but publishes nothing. The fleet hears
 * the steps it needs, in order, and never takes the missing numbers for a gap.
 */

const open: Cache[] = []
const subscribers: Redis[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((cache) => cache.close()))
  for (const subscriber of subscribers.splice(0)) subscriber.disconnect()
})

/** The implicit tag a `set` of `key` supersedes (default namespace `cg`). */
const keyTag = (key: string): string => `@key:cg::${key}`
/** `{P}:k`: the key tags some stored entry carried, each with the sequence it was marked at. */
const knownKeys = (prefix: string): string => `{${prefix}}:k`

/** The next `name` event of `cache` that matches. */
function next<E extends CacheEventName>(
  cache: Cache,
  name: E,
  match: (payload: CacheEvents[E]) => boolean = () => true,
): Promise<CacheEvents[E]> {
  return new Promise((resolve) => {
    const listener = (payload: CacheEvents[E]) => {
      if (!match(payload)) return
      cache.off(name, listener)
      resolve(payload)
    }
    cache.on(name, listener)
  })
}

/** Every `name` event of `cache` from now on. */
function events<E extends CacheEventName>(cache: Cache, name: E): CacheEvents[E][] {
  const seen: CacheEvents[E][] = []
  cache.on(name, (payload) => seen.push(payload))
  return seen
}

/** The tags of every step of other processes that `cache` applied from now on. */
function applied(cache: Cache): string[] {
  const tags: string[] = []
  cache.on('bus:invalidate', (step) => tags.push(...step.tags))
  return tags
}

/** One process of a fleet: its own store client and a gated Redis bus. Resolves once trusted. */
async function member(prefix: string, options: { maxEntryBytes?: number; l1?: false } = {}) {
  const bus = gatedBus(redisBus({ maxSilence: '10s' }))
  const store = redisStore({ url: inject('redisUrl'), prefix }) as RedisStore
  const cache = createCache({ store, bus, ...options })
  open.push(cache)
  await next(cache, 'bus:trusted')
  return { cache, gate: bus.gate }
}

/** One step of a published message: `h` hard, `s` soft, `-` quiet (taken, tags not sent). */
interface PublishedStep {
  seq: number
  kind: string
  tags: readonly string[]
}

/** A message as a raw subscriber of `{P}:bus` receives it. */
interface Published {
  text: string
  kinds: string
  /** The step published before this message: every step between the two was quiet. */
  after: number
  steps: PublishedStep[]
}

/** Reads the wire form `last \n epoch \n kinds \n origin \n after \n [tags JSON per step]`. */
function parsePublished(text: string): Published {
  const lines = text.split('\n')
  const [last, , kinds = '', , after] = lines
  let lists: unknown = []
  try {
    lists = kinds === 'b' ? [] : JSON.parse(lines.slice(5).join('\n'))
  } catch {
    // Not the expected form: the message keeps its text, and carries no steps.
  }
  const first = Number(last) - kinds.length + 1
  const steps =
    kinds === 'b' || !Array.isArray(lists)
      ? []
      : [...kinds].map((kind, i) => ({
          seq: first + i,
          kind,
          tags: (lists as string[][])[i] ?? [],
        }))
  return { text, kinds, after: Number(after), steps }
}

/** Matches a message that names `tag` anywhere (read as text: it holds for any wire form). */
const mentioning =
  (tag: string) =>
  (m: Published): boolean =>
    m.text.includes(JSON.stringify(tag))

/** What is published on the bus of `prefix` from now on, heard by a subscriber of its own. */
async function watchBus(prefix: string) {
  const subscriber = new Redis(inject('redisUrl'))
  subscribers.push(subscriber)
  const seen: Published[] = []
  const waiters: { match: (m: Published) => boolean; resolve: (m: Published) => void }[] = []
  subscriber.on('message', (_channel: string, text: string) => {
    const message = parsePublished(text)
    seen.push(message)
    for (const waiter of [...waiters]) {
      if (!waiter.match(message)) continue
      waiters.splice(waiters.indexOf(waiter), 1)
      waiter.resolve(message)
    }
  })
  await subscriber.subscribe(`{${prefix}}:bus`)
  return {
    seen,
    /** The published steps that carry `tag`. */
    stepsWith: (tag: string): PublishedStep[] =>
      seen.flatMap((m) => m.steps.filter((step) => step.tags.includes(tag))),
    /** Whether any message so far mentions `tag` at all, in whatever form. */
    mentions: (tag: string): boolean => seen.some(mentioning(tag)),
    until: (match: (m: Published) => boolean): Promise<Published> => {
      const found = seen.find(match)
      if (found !== undefined) return Promise.resolve(found)
      return new Promise((resolve) => waiters.push({ match, resolve }))
    },
  }
}
type BusWatch = Awaited<ReturnType<typeof watchBus>>

let barriers = 0
/**
 * Publishes a step and waits until every member applied it and the watcher heard it. Messages
 * arrive in the order they were published, so every step published before it has been applied
 * and heard too: what the watcher has not seen by then was never published.
 */
async function barrier(cache: Cache, bus: BusWatch): Promise<Published> {
  const tag = `barrier-${++barriers}`
  await cache.invalidate(tag, { ack: true })
  return bus.until(mentioning(tag))
}

/** Asks the store to publish a heartbeat, as a member's timer does; resolves with its sequence. */
async function heartbeat(prefix: string): Promise<number> {
  const [seq] = (await redisClient().eval(
    HEARTBEAT,
    1,
    `{${prefix}}:seq`,
    prefix,
    'quiet-steps-test',
  )) as [string, string]
  return Number(seq)
}

/** The sequence a key's last superseding step recorded in `{P}:h`. */
async function recorded(prefix: string, tag: string): Promise<number> {
  return Number(await redisClient().hget(`{${prefix}}:h`, tag))
}

describe('quiet steps', () => {
  it('a set of a key no entry ever carried publishes nothing, and records and marks the key', async () => {
    const prefix = uniquePrefix()
    const [a, b] = [await member(prefix), await member(prefix)]
    const bus = await watchBus(prefix)
    await barrier(a.cache, bus) // no step of a state is quiet before one was published
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
    const prefix = uniquePrefix()
    const [a, b] = [await member(prefix), await member(prefix)]
    const bus = await watchBus(prefix)
    await barrier(a.cache, bus) // no step of a state is quiet before one was published
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
    const prefix = uniquePrefix()
    const [a, b] = [await member(prefix), await member(prefix)]
    const bus = await watchBus(prefix)
    await barrier(a.cache, bus) // no step of a state is quiet before one was published
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

  it('a load of the key running elsewhere during a quiet set is not stored, nor joined after it', async () => {
    const prefix = uniquePrefix()
    const [a, b] = [await member(prefix), await member(prefix)]
    const bus = await watchBus(prefix)
    await barrier(a.cache, bus) // no step of a state is quiet before one was published
    const loader = deferred<string>()
    const started = deferred<void>()
    const first = b.cache.getOrSet('k', () => {
      started.resolve()
      return loader.promise
    })
    await started.promise // b's load is as of the store's sequence before the set

    await a.cache.set('k', 'written')
    // b never hears of the set: a caller arriving now would join the load that started before it.
    const joined = b.cache.getOrSet('k', () => 'joiner loaded')
    loader.resolve('loaded before the set')

    expect(await first).toBe('loaded before the set') // asked before the set: it gets the load
    expect(await joined).toBe('written')
    await barrier(a.cache, bus)
    expect(bus.mentions(keyTag('k'))).toBe(false)
    expect(await b.cache.get('k')).toBe('written')
    expect(await a.cache.get('k')).toBe('written')
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

  it('quiet sets among published invalidations cause no gap: every member stays trusted and in step', async () => {
    const prefix = uniquePrefix()
    const [a, b] = [await member(prefix), await member(prefix)]
    const bus = await watchBus(prefix)
    await barrier(a.cache, bus) // no step of a state is quiet before one was published
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
    const prefix = uniquePrefix()
    const [a, b] = [await member(prefix), await member(prefix)]
    const bus = await watchBus(prefix)
    await barrier(a.cache, bus) // no step of a state is quiet before one was published
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
    expect(syncs.map((sync) => sync.startedOver)).toEqual([false])
    expect(await b.cache.get('gone')).toBeUndefined()
    const hits = b.cache.stats().l1.hits
    expect(await b.cache.get('kept')).toBe('k')
    expect(b.cache.stats().l1.hits).toBe(hits + 1)
    expect(b.cache.stats().bus).toMatchObject({ trusted: true, gaps: 1 })
  })

  it('a lost step followed by quiet steps alone is noticed by a heartbeat and replayed', async () => {
    const prefix = uniquePrefix()
    const [a, b] = [await member(prefix), await member(prefix)]
    const bus = await watchBus(prefix)
    await barrier(a.cache, bus) // no step of a state is quiet before one was published
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
    expect(syncs.map((sync) => sync.startedOver)).toEqual([false])
    expect(await b.cache.get('gone')).toBeUndefined()
    const hits = b.cache.stats().l1.hits
    expect(await b.cache.get('kept')).toBe('k')
    expect(b.cache.stats().l1.hits).toBe(hits + 1)
    expect(b.cache.stats().bus).toMatchObject({ trusted: true, gaps: 1 })
  })
  it('a store that lost its state says so at once: the set that finds the loss is heard, not quiet', async () => {
    const prefix = uniquePrefix()
    const [a, b] = [await member(prefix), await member(prefix)]
    const bus = await watchBus(prefix)
    await barrier(a.cache, bus) // no step of a state is quiet before one was published
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
    open.push(writer)
    await writer.set('k', 'new')
    // A malformed message on the channel, published after the set's script returned: once b
    // reports it, b has received whatever that script published.
    const heard = next(b.cache, 'error', (e) => e.operation === 'bus')
    await redisClient().publish(`{${prefix}}:bus`, 'sentinel')
    await heard
    expect(resets).toHaveLength(1)
    expect(await b.cache.get('k')).toBe('new')
  })
  it("a session's private entry marks its key: a first set of it elsewhere is heard, and the entry dropped", async () => {
    const prefix = uniquePrefix()
    const [a, b] = [await member(prefix), await member(prefix)]
    const bus = await watchBus(prefix)
    await barrier(a.cache, bus) // no step of a state is quiet before one was published
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
