import fc from 'fast-check'
import { describe, expect, inject, it } from 'vitest'

import type { Cache } from '../../src/cache/cache.js'
import { createCache } from '../../src/index.js'
import { redisBus } from '../../src/redis/bus.js'
import { redisStore } from '../../src/redis/store.js'
import { redisClient, uniquePrefix } from '../helpers/tiers.js'

/**
 * Quiet steps never cost freshness: several processes share one prefix, each with its own store
 * client, bus and L1, and take turns at random writes and reads. A `set` or `delete` of a key no
 * stored entry ever carried is not published; whatever the mix, once every member applied every published
 * step (an acknowledged invalidation), no cache returns an older value than the last one written
 * or loaded into the store — in particular no entry built from an inner key's old value after
 * that key was set again.
 */

const CACHES = 3
/** Written and loaded directly; also the inputs of built keys. */
const PLAIN = ['a', 'b', 'c', 'd']
/** Built by a nested `getOrSet` from one plain key's cached value (or written directly). */
const BUILT = ['x', 'y']
const KEYS = [...PLAIN, ...BUILT]
const TAGS = ['t1', 't2']
/** Values past this are returned but not cached; only loaded inputs of `build` are made so big. */
const MAX_ENTRY_BYTES = 200
const PADDING = `~${'x'.repeat(MAX_ENTRY_BYTES)}`

/** A write of a one-tick batch: the calls go out as one script, in the order they were made. */
type Write =
  | { kind: 'set'; key: string; tags: string[] }
  | { kind: 'delete'; key: string }
  | { kind: 'invalidate'; tag: string }

/** One operation, made by cache number `by`. */
type Op = { by: number } & (
  | Write
  | { kind: 'load'; key: string; tags: string[] }
  | { kind: 'build'; key: string; input: string; large: boolean }
  | { kind: 'get'; key: string }
  | { kind: 'tick'; writes: Write[] }
)

const set: fc.Arbitrary<Write> = fc.record({
  kind: fc.constant('set' as const),
  key: fc.constantFrom(...KEYS),
  tags: fc.subarray(TAGS),
})
const remove: fc.Arbitrary<Write> = fc.record({
  kind: fc.constant('delete' as const),
  key: fc.constantFrom(...KEYS),
})
const invalidate: fc.Arbitrary<Write> = fc.record({
  kind: fc.constant('invalidate' as const),
  tag: fc.constantFrom(...TAGS),
})
const load = fc.record({
  kind: fc.constant('load' as const),
  key: fc.constantFrom(...KEYS),
  tags: fc.subarray(TAGS),
})
const build = fc.record({
  kind: fc.constant('build' as const),
  key: fc.constantFrom(...BUILT),
  input: fc.constantFrom(...PLAIN),
  // A loaded input too large to cache: the built entry is then the one stored entry carrying
  // the input's key tag, and the only thing that marks it.
  large: fc.boolean(),
})
const get = fc.record({ kind: fc.constant('get' as const), key: fc.constantFrom(...KEYS) })
const tick = fc.record({
  kind: fc.constant('tick' as const),
  writes: fc.array(
    fc.oneof(
      { arbitrary: set, weight: 3 },
      { arbitrary: remove, weight: 1 },
      { arbitrary: invalidate, weight: 1 },
    ),
    { minLength: 2, maxLength: 4 },
  ),
})

const op: fc.Arbitrary<Op> = fc
  .tuple(
    fc.nat(CACHES - 1),
    fc.oneof(
      { arbitrary: set, weight: 4 },
      { arbitrary: load, weight: 2 },
      { arbitrary: build, weight: 3 },
      { arbitrary: get, weight: 2 },
      { arbitrary: invalidate, weight: 1 },
      { arbitrary: remove, weight: 1 },
      { arbitrary: tick, weight: 1 },
    ),
  )
  .map(([by, what]) => ({ by, ...what }))

/**
 * What the store holds, as the test expects it: the latest value of each key that no step has
 * made invalid since, and the tags it carries (its own key tag, its user tags, and those of the
 * input it was built from).
 */
class Model {
  readonly #values = new Map<string, string>()
  readonly #tags = new Map<string, Set<string>>()

  value(key: string): string | undefined {
    return this.#values.get(key)
  }

  tagsOf(key: string): Set<string> {
    return this.#tags.get(key) ?? new Set()
  }

  /** `value` was loaded into the store for `key` (no step: nothing else changes). */
  stored(key: string, value: string, tags: Iterable<string>): void {
    this.#values.set(key, value)
    this.#tags.set(key, new Set([...tags, keyTag(key)]))
  }

  /** A superseding `set`: the old value of `key`, and everything built from it, are invalid. */
  set(key: string, value: string, tags: Iterable<string>): void {
    this.invalidate(keyTag(key))
    this.stored(key, value, tags)
  }

  invalidate(tag: string): void {
    for (const [key, tags] of this.#tags) {
      if (!tags.has(tag)) continue
      this.#values.delete(key)
      this.#tags.delete(key)
    }
  }
}
const keyTag = (key: string): string => `@key:${key}`

/** A process of the fleet: its own store client, bus and L1. Resolves once its bus vouches for it. */
async function member(prefix: string): Promise<Cache> {
  const cache = createCache({
    store: redisStore({ url: inject('redisUrl'), prefix }),
    bus: redisBus({ maxSilence: '10s' }),
    maxEntryBytes: MAX_ENTRY_BYTES,
  })
  await new Promise<void>((resolve) => {
    const trusted = () => {
      cache.off('bus:trusted', trusted)
      resolve()
    }
    cache.on('bus:trusted', trusted)
  })
  return cache
}

/** Quiet steps the runs took (read from each prefix's log): the property is not vacuous. */
let quietSteps = 0

/** Counts the quiet steps (`-` among the kinds of each message) in the log of `prefix`. */
async function countQuiet(prefix: string): Promise<void> {
  for (const [, fields] of await redisClient().xrange(`{${prefix}}:log`, '-', '+')) {
    const kinds = fields[1]?.split('\n')[2] ?? ''
    quietSteps += [...kinds].filter((kind) => kind === '-').length
  }
}

/** Plays `ops` on one fresh prefix; throws at the first value older than the model allows. */
async function play(ops: readonly Op[]): Promise<void> {
  const prefix = uniquePrefix()
  const caches: Cache[] = []
  try {
    for (let i = 0; i < CACHES; i++) caches.push(await member(prefix))
    const model = new Model()
    let made = 0
    /** A value never written before: a stale read names the write it came from. */
    const fresh = (key: string) => `${key}${++made}`
    const stale: string[] = []
    /** `got` from a hit or read must be the latest value, or nothing. */
    const check = (where: string, got: unknown, key: string) => {
      const latest = model.value(key)
      if (got !== undefined && got !== latest) {
        stale.push(`${where}: ${JSON.stringify(got)}, latest ${JSON.stringify(latest)}`)
      }
    }

    const write = async (cache: Cache, writes: readonly Write[]) => {
      const values = writes.map((w) => (w.kind === 'set' ? fresh(w.key) : ''))
      // Made in one tick: the store sends them as one script, in this order.
      await Promise.all(
        writes.map((w, i) =>
          w.kind === 'set'
            ? cache.set(w.key, values[i], { tags: w.tags })
            : w.kind === 'delete'
              ? cache.delete(w.key)
              : cache.invalidate(w.tag),
        ),
      )
      writes.forEach((w, i) => {
        if (w.kind === 'set') model.set(w.key, values[i] as string, w.tags)
        else if (w.kind === 'delete') model.invalidate(keyTag(w.key))
        else model.invalidate(w.tag)
      })
    }

    for (const [n, o] of ops.entries()) {
      const cache = caches[o.by] as Cache
      const at = `op ${n} (${o.kind} by cache ${o.by})`
      if (o.kind === 'set' || o.kind === 'delete' || o.kind === 'invalidate')
        await write(cache, [o])
      else if (o.kind === 'tick') await write(cache, o.writes)
      else if (o.kind === 'get') check(at, await cache.get(o.key), o.key)
      else if (o.kind === 'load') {
        let loaded: string | undefined
        const got = await cache.getOrSet(o.key, () => (loaded = fresh(o.key)), { tags: o.tags })
        if (loaded === undefined) check(at, got, o.key)
        else model.stored(o.key, loaded, o.tags)
      } else {
        // The outer value names the inner value it was built from (without its padding).
        let inner: string | undefined
        let innerLoaded: string | undefined
        let built: string | undefined
        const got = await cache.getOrSet(o.key, async () => {
          inner = await cache.getOrSet(
            o.input,
            () => (innerLoaded = fresh(o.input) + (o.large ? PADDING : '')),
          )
          return (built = `${inner.replace(PADDING, '')}>${fresh(o.key)}`)
        })
        if (innerLoaded !== undefined) model.stored(o.input, innerLoaded, [])
        else if (inner !== undefined) check(`${at}, its input`, inner, o.input)
        if (built === undefined) check(at, got, o.key)
        else model.stored(o.key, built, model.tagsOf(o.input))
      }

      // Every member has applied every step published so far.
      await cache.invalidate('barrier', { ack: true })
      for (const [c, each] of caches.entries()) {
        for (const key of KEYS)
          check(`after ${at}, cache ${c} get(${key})`, await each.get(key), key)
      }
      expect(stale).toEqual([])
    }
    await countQuiet(prefix)
  } finally {
    await Promise.all(caches.map((cache) => cache.close()))
  }
}

describe('quiet steps, property', () => {
  it('no cache returns an older value than the latest, across caches and nesting (40 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 14 }), play),
      // Shrinking a failure plays many more histories: it stops in time to report what it has.
      { numRuns: 40, interruptAfterTimeLimit: 200_000 },
    )
    expect(quietSteps).toBeGreaterThan(0)
  }, 240_000)
})
