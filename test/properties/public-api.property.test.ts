import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { type Cache, createCache, isCacheError } from '../../src/index.js'
import { ALL_TIERS, trusted } from '../helpers/tiers.js'

/**
 * The public API driven with generated operations — well-formed ones on a small pool of keys and
 * tags, so they interact, mixed with hostile ones: wrong types, empty and reserved names, huge
 * strings, batches of tens of thousands. Whatever comes, each call resolves or rejects with a
 * documented `CacheError`; nothing escapes as an unhandled rejection; the shared tier's circuit
 * stays closed (a caller's bad input is not a store failure); and a value is never served after
 * an invalidation of one of its tags (or its deletion) resolved.
 */

/** Codes a caller may see for its own input (SPEC §1, §5b). */
const DOCUMENTED = new Set([
  'E_INVALID_KEY',
  'E_INVALID_TAG',
  'E_INVALID_VALUE',
  'E_INVALID_OPTION',
  'E_INVALID_PATTERN',
  'E_TOO_LARGE',
  'E_ENTRY_TOO_LARGE',
  'E_SERIALIZE',
])

/** Fixed by default so a run repeats; `FC_SEED=<n>` explores elsewhere. */
const seed = Number(process.env.FC_SEED ?? 20_261_206)

const POOL_KEYS = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5']
const POOL_TAGS = ['t0', 't1', 't2', 't3']

const hostileString = fc.oneof(
  fc.constant(''),
  fc.constant('\u0000x'),
  fc.constant('@key:k0'),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer({ min: 1, max: 200_000 }).map((n) => 'x'.repeat(n)),
)
const hostileValue = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.integer(),
  fc.constant({}),
  fc.constant([]),
  fc.constant(Symbol('s')),
)
const poolKey = fc.constantFrom(...POOL_KEYS)
const anyKey = fc.oneof({ weight: 4, arbitrary: poolKey }, { weight: 1, arbitrary: hostileString })
const anyKeyOrJunk = fc.oneof(
  { weight: 8, arbitrary: anyKey },
  { weight: 1, arbitrary: hostileValue },
)
const poolTags = fc.subarray(POOL_TAGS)
const anyTags = fc.oneof(
  { weight: 6, arbitrary: poolTags },
  { weight: 1, arbitrary: fc.array(hostileString, { maxLength: 3 }) },
  { weight: 1, arbitrary: hostileValue },
)
/** A batch size: mostly small, sometimes in the tens of thousands. */
const size = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 20 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 40_000 }) },
)
const value = fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.jsonValue({ maxDepth: 2 }))
const pattern = fc.oneof(
  fc.constantFrom('*', 'k*', 'k[0-2]', '[z-a]', '[', '\\', 'k?', '*a*a*a*a*a*a*a*b'),
  fc.string({ maxLength: 12 }),
)

type Op =
  | { kind: 'set'; key: unknown; value: unknown; tags: unknown; ttl?: unknown }
  | { kind: 'setMany'; count: number; tags: unknown; junk: boolean }
  | { kind: 'get' | 'has' | 'delete'; key: unknown }
  | { kind: 'getMany' | 'deleteMany'; count: number; keys: unknown[] }
  | { kind: 'getOrSet'; key: unknown; value: unknown; tags: unknown }
  | { kind: 'invalidate'; tags: unknown; count: number }
  | { kind: 'clear' | 'keys'; pattern: string }

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('set' as const),
    key: anyKeyOrJunk,
    value: fc.oneof({ weight: 5, arbitrary: value }, { weight: 1, arbitrary: hostileValue }),
    tags: anyTags,
    ttl: fc.option(fc.oneof(fc.constantFrom('1m', 'abc', -1, 0, NaN, 1e300), fc.nat()), {
      nil: undefined,
    }),
  }),
  fc.record({
    kind: fc.constant('setMany' as const),
    count: size,
    tags: anyTags,
    junk: fc.boolean(),
  }),
  fc.record({
    kind: fc.constantFrom('get' as const, 'has' as const, 'delete' as const),
    key: anyKeyOrJunk,
  }),
  fc.record({
    kind: fc.constantFrom('getMany' as const, 'deleteMany' as const),
    count: size,
    keys: fc.array(anyKeyOrJunk, { maxLength: 4 }),
  }),
  fc.record({ kind: fc.constant('getOrSet' as const), key: anyKeyOrJunk, value, tags: anyTags }),
  fc.record({ kind: fc.constant('invalidate' as const), tags: anyTags, count: size }),
  fc.record({ kind: fc.constantFrom('clear' as const, 'keys' as const), pattern }),
)

const PRESENT = Symbol('present')

/** What may be said of a pool key: its live value, or that nothing may be served for it. */
type Known =
  { state: 'alive'; value: unknown; tags: string[] } | { state: 'dead' } | { state: 'unknown' }

class Model {
  readonly known = new Map<string, Known>(POOL_KEYS.map((key) => [key, { state: 'unknown' }]))

  stored(key: unknown, value: unknown, tags: unknown, ok: boolean): void {
    if (typeof key !== 'string' || !this.known.has(key)) return
    const list = Array.isArray(tags) ? (tags as string[]) : []
    this.known.set(key, ok ? { state: 'alive', value, tags: list } : { state: 'unknown' })
  }

  invalidated(tags: readonly string[]): void {
    for (const [key, known] of this.known) {
      if (known.state === 'alive' && known.tags.some((tag) => tags.includes(tag))) {
        this.known.set(key, { state: 'dead' })
      }
    }
  }

  deleted(keys: readonly unknown[]): void {
    for (const key of keys)
      if (typeof key === 'string' && this.known.has(key)) this.known.set(key, { state: 'dead' })
  }

  all(state: Known): void {
    for (const key of this.known.keys()) this.known.set(key, state)
  }

  /** Checks a value served for `key` ({@link PRESENT}: `has` said there is one). */
  served(key: unknown, got: unknown): void {
    if (typeof key !== 'string') return
    const known = this.known.get(key)
    if (known?.state === 'dead') expect(got, `${key} was invalidated`).toBeUndefined()
    if (known?.state === 'alive' && got !== undefined && got !== PRESENT) {
      expect(got).toStrictEqual(known.value)
    }
  }
}

/** Runs `call`; a rejection must be a documented CacheError. Undefined when it rejected. */
async function attempt<T>(call: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false }> {
  try {
    return { ok: true, value: await Promise.resolve().then(call) }
  } catch (error) {
    if (!isCacheError(error) || !DOCUMENTED.has(error.code)) {
      throw new Error(`undocumented failure: ${String(error)}`, { cause: error })
    }
    return { ok: false }
  }
}

const many = (count: number, extra: unknown[]) => [
  ...Array.from({ length: count }, (_, i) => `bulk:${i}`),
  ...extra,
]

async function apply(cache: Cache, model: Model, step: Op): Promise<void> {
  const c = cache as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>
  switch (step.kind) {
    case 'set': {
      const options = { tags: step.tags, ...(step.ttl === undefined ? {} : { ttl: step.ttl }) }
      const result = await attempt(() => c.set!(step.key, step.value, options))
      if (result.ok) model.stored(step.key, step.value, step.tags, result.value === true)
      else model.stored(step.key, undefined, undefined, false)
      return
    }
    case 'setMany': {
      const entries = many(step.count, step.junk ? [null, { key: '' }] : []).map((key, i) => ({
        key,
        value: i,
        tags: step.tags,
      }))
      const result = await attempt(() => cache.setMany(entries as never))
      if (!result.ok) return
      return
    }
    case 'get': {
      const result = await attempt(() => c.get!(step.key))
      if (result.ok) model.served(step.key, result.value)
      return
    }
    case 'has': {
      const result = await attempt(() => c.has!(step.key))
      if (result.ok && result.value === true) model.served(step.key, PRESENT)
      return
    }
    case 'getMany': {
      const keys = [...step.keys, ...many(step.count, [])]
      const result = await attempt(() => cache.getMany(keys as string[]))
      if (result.ok) {
        expect(result.value.length).toBe(keys.length)
        keys.forEach((key, i) => model.served(key, result.value[i]))
      }
      return
    }
    case 'getOrSet': {
      const result = await attempt(() =>
        cache.getOrSet(step.key as string, () => Promise.resolve(step.value), {
          tags: step.tags as string[],
        }),
      )
      if (!result.ok || typeof step.key !== 'string') return
      const known = model.known.get(step.key)
      if (known?.state === 'dead' || known?.state === 'unknown') {
        // A miss ran the loader, or an entry we cannot judge was served: learn what is there now.
        if (known.state === 'dead') expect(result.value).toStrictEqual(step.value)
        model.stored(step.key, result.value, step.tags, known.state === 'dead')
      } else model.served(step.key, result.value)
      return
    }
    case 'delete': {
      const result = await attempt(() => c.delete!(step.key))
      if (result.ok) model.deleted([step.key])
      return
    }
    case 'deleteMany': {
      const keys = [...step.keys, ...many(step.count, [])]
      const result = await attempt(() => cache.deleteMany(keys as string[]))
      if (result.ok) model.deleted(keys)
      return
    }
    case 'invalidate': {
      const tags = Array.isArray(step.tags)
        ? [...(step.tags as unknown[]), ...many(step.count, [])]
        : step.tags
      const result = await attempt(() => cache.invalidate(tags as string[]))
      if (result.ok) model.invalidated(tags as string[])
      return
    }
    case 'clear': {
      const result = await attempt(() => cache.clear({ pattern: step.pattern }))
      // Which pool keys a pattern matches is the matcher's business (tested on its own).
      if (result.ok && step.pattern === '*') model.all({ state: 'dead' })
      else model.all({ state: 'unknown' })
      return
    }
    case 'keys': {
      await attempt(() => cache.keys({ pattern: step.pattern }))
      return
    }
  }
}

const unhandled: unknown[] = []
const onUnhandled = (reason: unknown) => unhandled.push(reason)
beforeAll(() => process.on('unhandledRejection', onUnhandled))
afterAll(() => process.off('unhandledRejection', onUnhandled))

describe.each(ALL_TIERS)('the public API under generated input, %s', (_, tiers) => {
  it('never crashes, fails only with documented errors, never serves an invalidated value', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 14 }), async (steps) => {
        const cache = await trusted(createCache({ namespace: 'prop', ...tiers() }))
        try {
          const model = new Model()
          for (const step of steps) await apply(cache, model, step)
          // The cache still works for everyone: a canary round trip and an invalidation.
          expect(await cache.set('canary', 'v', { tags: ['canary'] })).toBe(true)
          expect(await cache.get('canary')).toBe('v')
          await cache.invalidate('canary')
          expect(await cache.get('canary')).toBeUndefined()
          expect(cache.stats().l2.circuit).toBe('closed')
          expect(unhandled).toEqual([])
        } finally {
          await cache.close()
        }
      }),
      { numRuns: 12, seed },
    )
  })
})
