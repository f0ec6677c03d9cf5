import fc from 'fast-check'
import { Redis } from 'ioredis'
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest'

import { TagRegistry, Validity } from '../../src/cache/model/tag-registry.js'
import { provenBounds } from '../../src/cache/tiers/proven-judge.js'
import { type Cache, createCache } from '../../src/index.js'
import { entryKey, slotKeys } from '../../src/redis/keys.js'
import { parseProven, parseRead, type ReadReply } from '../../src/redis/reply.js'
import { runScript, script } from '../../src/redis/runner.js'
import { READ } from '../../src/redis/scripts.js'
import { type RedisStore, redisStore } from '../../src/redis/store.js'
import type { StoreEntry, StoreReadResult } from '../../src/stores/store.js'
import { recordKeys, redisClient, rewindState, uniquePrefix } from '../helpers/tiers.js'

/**
 * A read without a bus proves most entries valid from one MGET of the entries, the state and the
 * watermark `{P}:w` (reply.ts `parseProven`), and asks the read script only about the others. The
 * script is the oracle: generated writes (superseding, as of an older start, with per-tag starts,
 * with key tags of other keys), invalidations (hard and soft, of user, namespace and key tags) and
 * losses (the watermark deleted or put back from an older copy, the sequence rewound, the records
 * or the whole state deleted) never make the proof accept an entry the script refuses, or one it
 * would only serve as stale.
 */

const seed = Number(process.env.FC_SEED ?? 20_261_206)
const KEYS = ['a', 'b', 'c']
const keyTagOf = (key: string) => `@key:${key}`
const USER_TAGS = ['t0', 't1', '@ns:x', ...KEYS.map(keyTagOf)]
const READ_SCRIPT = script(READ)

type Op =
  | { kind: 'set'; key: string; tags: string[] }
  | { kind: 'load'; key: string; tags: string[]; back: number; perTag: number[] | undefined }
  | { kind: 'asOf'; key: string; tags: string[]; back: number }
  | { kind: 'invalidate'; tags: string[]; stale: boolean }
  | { kind: 'loseWatermark' }
  | { kind: 'olderWatermark' }
  | { kind: 'rewind'; back: number }
  | { kind: 'loseRecords' }
  | { kind: 'loseState' }

const key = fc.constantFrom(...KEYS)
const tags = fc.subarray(USER_TAGS)
const back = fc.integer({ min: 0, max: 4 })
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('set' as const), key, tags }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('load' as const),
      key,
      tags,
      back,
      perTag: fc.option(fc.array(back, { minLength: 8, maxLength: 8 }), { nil: undefined }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('asOf' as const), key, tags, back }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('invalidate' as const),
      tags: fc.subarray(USER_TAGS, { minLength: 1 }),
      stale: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'loseWatermark' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'olderWatermark' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('rewind' as const), back }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'loseRecords' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'loseState' as const }) },
)

/** Whether the script's answer serves entry `i` as a fresh hit: no hard or soft record above it. */
function validByScript(read: StoreReadResult, i: number): boolean {
  const entry = read.entries[i]
  if (entry === undefined || entry.payload === '') return false
  return entry.tags.every((tag, j) => {
    const start = entry.tagStarts?.[j] ?? entry.start
    const record = read.tagSeqs[tag]
    return record !== undefined && record.hard <= start && record.soft <= start
  })
}

describe('a read proven from one MGET never serves what the read script refuses', () => {
  it('holds for generated writes, invalidations and losses', async () => {
    const client = redisClient()
    /** Entries proven, and proven while older than the last step: the property was exercised. */
    let proven = 0
    let provenOlder = 0
    /** Unsure entries the process refused by its own records. */
    let refused = 0
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
        const prefix = uniquePrefix()
        const store = redisStore({ client, prefix }) as RedisStore
        const keys = slotKeys(prefix)
        const names = [
          ...KEYS.map((k) => entryKey(prefix, k)),
          keys.seq,
          keys.epoch,
          keys.floor,
          keys.watermark,
        ]
        const watermarks: string[] = []
        /** Entry strings the script served as fresh hits at the last check. */
        let fresh = new Map<number, string>()
        let seq = (await store.read([])).seq
        /**
         * The records of a process that made these invalidations itself (as the engine applies
         * its own): what it refuses among the unsure entries of a proven read (shared.ts
         * `#refuseKnown`) the script must refuse too. Dropped once the state is lost (the engine
         * then starts its records over).
         */
        let own: TagRegistry | undefined = new TagRegistry(1_000)
        const entry = (k: string, t: string[], extra: Partial<StoreEntry> = {}): StoreEntry => ({
          key: k,
          payload: `"${k}@${seq}"`,
          tags: [...new Set([...t, keyTagOf(k)])],
          ttlMs: 60_000,
          ...extra,
        })
        for (const step of ops) {
          let recordsLost = false
          switch (step.kind) {
            case 'set':
              await store.write([entry(step.key, step.tags, { keyTag: keyTagOf(step.key) })])
              break
            case 'load': {
              const e = entry(step.key, step.tags, { start: seq - step.back })
              if (step.perTag !== undefined) {
                e.tagStarts = e.tags.map((_, j) => seq - (step.perTag?.[j] ?? 0))
              }
              await store.write([e])
              break
            }
            case 'asOf':
              await store.write([entry(step.key, step.tags)], { asOf: seq - step.back })
              break
            case 'invalidate': {
              const done = await store.invalidate(step.tags, { stale: step.stale })
              own?.apply(step.tags, done.seq, step.stale)
              break
            }
            case 'loseWatermark':
              await client.del(keys.watermark)
              break
            case 'olderWatermark':
              if (watermarks[0] !== undefined) await client.set(keys.watermark, watermarks[0])
              break
            case 'rewind':
              own = undefined
              await rewindState(prefix, seq - 1 - step.back)
              break
            case 'loseRecords':
              own = undefined
              await client.del(...recordKeys(prefix))
              recordsLost = true
              break
            case 'loseState':
              own = undefined
              await client.del(keys.seq, keys.epoch, keys.floor)
              break
          }
          const values = await client.mget(names)
          const mark = values[KEYS.length + 3]
          if (mark !== null && mark !== undefined) watermarks.push(mark)
          const fast = parseProven(values, KEYS)
          const reply = (await runScript(client, READ_SCRIPT, [], [prefix, ...KEYS])) as ReadReply
          const checked = parseRead(reply, KEYS.length)
          seq = checked.seq
          fast?.entries.forEach((record, i) => {
            // Unsure entries are there as read, unchecked: only the others are proven. The
            // process refuses those its own records decide invalid; the script must agree.
            if (record !== undefined && fast.unsure.includes(i)) {
              const { tags, start, tagStarts } = record
              if (
                own?.decides(tags, start, tagStarts) === true &&
                own.check(tags, start, tagStarts) === Validity.Invalid
              ) {
                refused++
                expect(validByScript(checked, i), `${KEYS[i]} after ${JSON.stringify(ops)}`).toBe(
                  false,
                )
              }
              return
            }
            if (record === undefined) return
            proven++
            if (record.start < fast.seq) provenOlder++
            const raw = values[i] as string
            if (recordsLost) {
              // The script cannot tell any more (it starts the state over); the proof must accept
              // only what the script served as fresh before the records went.
              expect(fresh.get(i), `${KEYS[i]} after ${JSON.stringify(ops)}`).toBe(raw)
            } else {
              expect(validByScript(checked, i), `${KEYS[i]} after ${JSON.stringify(ops)}`).toBe(
                true,
              )
              expect(checked.entries[i]?.start).toBe(record.start)
              // What the proof vouches for each tag (the engine judges a proven entry by it when
              // it forgot a record) is never below the record the script read, and never above
              // the entry's own start of that tag.
              const bounds = provenBounds(record)
              record.tags.forEach((tag, t) => {
                const bound = bounds[tag]
                const read = checked.tagSeqs[tag]
                const at = `${tag} of ${KEYS[i]} after ${JSON.stringify(ops)}`
                expect(bound, at).toBeDefined()
                if (read !== undefined) {
                  expect(bound?.hard, at).toBeGreaterThanOrEqual(read.hard)
                  expect(bound?.soft, at).toBeGreaterThanOrEqual(read.soft)
                }
                expect(bound?.hard, at).toBeLessThanOrEqual(record.tagStarts?.[t] ?? record.start)
              })
            }
          })
          fresh = new Map()
          checked.entries.forEach((record, i) => {
            if (record !== undefined && validByScript(checked, i)) {
              fresh.set(i, values[i] as string)
            }
          })
        }
      }),
      { seed, numRuns: 60 },
    )
    expect(proven).toBeGreaterThan(50)
    expect(provenOlder).toBeGreaterThan(0)
    expect(refused).toBeGreaterThan(10)
  }, 120_000)

  it('proves entries written by superseding sets while unrelated keys are set after them', async () => {
    const client = redisClient()
    const prefix = uniquePrefix()
    const store = redisStore({ client, prefix }) as RedisStore
    for (const k of KEYS) {
      await store.write([
        { key: k, payload: '1', tags: ['t0', keyTagOf(k)], keyTag: keyTagOf(k), ttlMs: 60_000 },
      ])
    }
    const keys = slotKeys(prefix)
    const names = [...KEYS.map((k) => entryKey(prefix, k)), keys.seq, keys.epoch, keys.floor]
    const values = await client.mget([...names, keys.watermark])
    const proven = parseProven(values, KEYS)
    expect(proven?.unsure).toEqual([])
    expect(proven?.entries.map((e) => e?.payload)).toEqual(['1', '1', '1'])
    // An invalidation of any tag is above their starts: the script has to judge them now.
    await store.invalidate(['unrelated'])
    const after = parseProven(await client.mget([...names, keys.watermark]), KEYS)
    expect(after?.unsure).toEqual([0, 1, 2])
  })
})

describe('a read without a bus is one plain MGET when nothing was invalidated since', () => {
  const caches: Cache[] = []
  afterEach(async () => {
    await Promise.all(caches.splice(0).map((cache) => cache.close()))
  })
  let monitor: Redis | undefined
  afterAll(() => monitor?.disconnect())

  /** The commands Redis ran for `prefix` from clients (not from inside scripts) during `fn`. */
  async function commandsDuring(prefix: string, fn: () => Promise<void>): Promise<string[]> {
    monitor ??= await new Redis(inject('redisUrl')).monitor()
    const seen: string[] = []
    const fence = `${prefix}:fence`
    let fenced: () => void = () => {}
    const reached = new Promise<void>((resolve) => (fenced = resolve))
    let started = false
    const fenceStart = `${prefix}:start`
    const listener = (_time: string, args: string[], source: string) => {
      if (source.startsWith('lua')) return
      if (args[1] === fenceStart) return void (started = true)
      if (args[1] === fence) return fenced()
      if (started && args.some((arg) => arg.includes(prefix))) {
        seen.push(args[0]?.toLowerCase() ?? '')
      }
    }
    monitor.on('monitor', listener)
    try {
      // MONITOR reports commands in the order Redis ran them: everything between the two fences.
      await redisClient().get(fenceStart)
      await fn()
      await redisClient().get(fence)
      await reached
    } finally {
      monitor.off('monitor', listener)
    }
    return seen
  }

  it('serves hits with one MGET, and asks the script only about entries older than an invalidation', async () => {
    const prefix = uniquePrefix()
    const cache = createCache({
      l1: false,
      store: redisStore({ client: redisClient(), prefix }),
    })
    caches.push(cache)
    await cache.set('a', 1, { tags: ['t'] })
    await cache.set('b', 2, { tags: ['u'] })
    await cache.set('c', 3)
    const hits = await commandsDuring(prefix, async () => {
      expect(await cache.get('a')).toBe(1)
      expect(await cache.get('b')).toBe(2)
      expect(await cache.getMany(['a', 'b', 'c', 'missing'])).toEqual([1, 2, 3, undefined])
    })
    expect(hits).toEqual(['mget', 'mget', 'mget'])

    await cache.invalidate('t')
    const after = await commandsDuring(prefix, async () => {
      expect(await cache.get('a')).toBeUndefined()
      expect(await cache.get('b')).toBe(2)
    })
    // 'a' is refused by this process's own record of 't', 'b' is asked of the script.
    expect(after).toEqual(['mget', 'mget', 'evalsha'])

    // A set after the invalidation is proven again from the MGET alone.
    await cache.set('b', 4, { tags: ['u'] })
    expect(await commandsDuring(prefix, async () => void (await cache.get('b')))).toEqual(['mget'])
  })
})
