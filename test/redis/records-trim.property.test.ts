import fc from 'fast-check'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, inject, it } from 'vitest'

import { createCache } from '../../src/index.js'
import { TRIM } from '../../src/redis/records-trim.js'
import { redisStore } from '../../src/redis/store.js'
import { uniquePrefix } from '../helpers/tiers.js'

/**
 * Trimming never revives: the same history is played on two prefixes, one of them is trimmed
 * somewhere in it as hard as it gets (a window of 0 ms: the floor rises to the sequence of that
 * moment and every record goes), and a process that knows nothing but the store reads every key
 * of both. Whatever the
 * untrimmed prefix refuses, the trimmed one refuses too; whatever the trimmed one serves, the
 * untrimmed one serves the same.
 */
const redis = new Redis(inject('redisUrl'))
afterAll(() => redis.quit())

type Op =
  | { kind: 'set'; key: string; value: number; tags: string[] }
  | { kind: 'load'; key: string; value: number; tags: string[] }
  | { kind: 'build'; key: string; inputs: string[] }
  | { kind: 'invalidate'; tag: string }

const KEYS = ['a', 'b', 'c']
const BUILT = ['x', 'y']
const TAGS = ['t1', 't2']

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('set' as const),
    key: fc.constantFrom(...KEYS),
    value: fc.nat(99),
    tags: fc.subarray(TAGS),
  }),
  fc.record({
    kind: fc.constant('load' as const),
    key: fc.constantFrom(...KEYS),
    value: fc.nat(99),
    tags: fc.subarray(TAGS),
  }),
  fc.record({
    kind: fc.constant('build' as const),
    key: fc.constantFrom(...BUILT),
    inputs: fc.subarray(KEYS, { minLength: 1 }),
  }),
  fc.record({ kind: fc.constant('invalidate' as const), tag: fc.constantFrom(...TAGS) }),
)

/** A cache that knows only what the store says (no L1, no bus, nothing heard before). */
function reader(prefix: string) {
  const store = redisStore({ url: inject('redisUrl'), prefix, keepRecords: Infinity })
  return createCache({ store, l1: false, maxLifetime: '1h', ttl: '1h' })
}

async function play(prefix: string, ops: readonly Op[]): Promise<void> {
  const cache = reader(prefix)
  for (const o of ops) {
    if (o.kind === 'set') await cache.set(o.key, o.value, { tags: o.tags })
    else if (o.kind === 'load') await cache.getOrSet(o.key, () => o.value, { tags: o.tags })
    else if (o.kind === 'build') {
      await cache.getOrSet(o.key, async () => {
        let sum = 0
        for (const input of o.inputs) sum += await cache.getOrSet(input, () => 0)
        return sum
      })
    } else await cache.invalidate(o.tag)
  }
  await cache.close()
}

async function readAll(prefix: string): Promise<(number | undefined)[]> {
  const cache = reader(prefix)
  const values = []
  for (const key of [...KEYS, ...BUILT]) values.push(await cache.get<number>(key))
  await cache.close()
  return values
}

describe('records trimming, property', () => {
  it('never makes a refused entry valid, nor changes a served one (60 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 1, maxLength: 12 }),
        fc.nat(12),
        async (ops, at) => {
          const [kept, trimmed] = [uniquePrefix(), uniquePrefix()]
          // The trim falls anywhere in the history: records of later steps are kept, in both.
          for (const prefix of [kept, trimmed]) await play(prefix, ops.slice(0, at))
          await redis.eval(TRIM, 1, `{${trimmed}}:seq`, trimmed, '0', '0', '100000')
          expect(await redis.hlen(`{${trimmed}}:h`)).toBeLessThanOrEqual(1) // the marker alone
          // After it, writes and invalidations alone: a load would run only where the trim made
          // a miss, and the two histories would part.
          const rest = ops.slice(at).filter((o) => o.kind === 'set' || o.kind === 'invalidate')
          for (const prefix of [kept, trimmed]) await play(prefix, rest)
          const [untrimmed, read] = [await readAll(kept), await readAll(trimmed)]
          read.forEach((value, i) => {
            if (untrimmed[i] === undefined) expect(value).toBeUndefined()
            if (value !== undefined) expect(value).toBe(untrimmed[i])
          })
        },
      ),
      { numRuns: 60 },
    )
  }, 120_000)
})
