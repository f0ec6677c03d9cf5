import fc from 'fast-check'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, inject, it } from 'vitest'

import { writeReply } from '../../src/redis/step-batch.js'
import { STEPS } from '../../src/redis/steps-script.js'
import { uniquePrefix } from '../helpers/tiers.js'

/** The steps script without its path for a single superseding entry: every call takes the general one. */
const GENERAL = STEPS.replace(
  / {2}elseif op == 'w' and ARGV\[a \+ 2\] == '1'[\s\S]*?a = b \+ 7\n/,
  '',
)

/**
 * A database of its own: every snapshot lists the keys of a prefix with `KEYS`, which walks the
 * whole database — in the shared one, under other tests' million-key batches, that took a run
 * past its time limit.
 */
const client = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1, db: 12 })
const used: string[] = []
afterAll(async () => {
  for (const prefix of used) {
    const keys = await client.keys(`*${prefix}*`)
    if (keys.length > 0) await client.unlink(...keys)
  }
  client.disconnect()
})

/**
 * Everything a run of the script left under `prefix` and what it answered, with each sequence
 * number (16 digits or more: microsecond-clock values) replaced by its rank among those seen and
 * its epoch by a name, so that two prefixes, whose sequences start at different times, compare
 * equal when they did the same.
 */
async function snapshot(prefix: string, replies: unknown[]): Promise<string> {
  const keys = (await client.keys(`*${prefix}*`)).sort()
  const state: Record<string, unknown> = {}
  for (const key of keys) {
    const type = await client.type(key)
    const name = key.replace(prefix, 'P')
    if (type === 'string') state[name] = await client.get(key)
    else if (type === 'hash') {
      // Field order is the order of the script's writes of a Lua table: not part of the state.
      state[name] = Object.fromEntries(Object.entries(await client.hgetall(key)).sort())
    } else if (type === 'stream') {
      state[name] = (await client.xrange(key, '-', '+')).map(([, fields]) => fields)
    }
  }
  // Epochs are TIME-based too (`<seconds>.<microseconds>`): one per prefix.
  const text = JSON.stringify({ state, replies })
    .replaceAll(prefix, 'P')
    .replace(/\d{10}\.\d+/g, 'EPOCH')
  const seqs = [...new Set(text.match(/\d{16,}/g) ?? [])].sort()
  return text.replace(/\d{16,}/g, (seq) => `#${seqs.indexOf(seq)}`)
}

type Call =
  | { kind: 'set'; key: string; tags: string[]; own: boolean }
  | { kind: 'load'; key: string }
  | { kind: 'invalidate'; tag: string }

/** One call of a run: a superseding `set`, a load's write (with a start), or an invalidation. */
const call: fc.Arbitrary<Call> = fc.oneof(
  fc.record({
    kind: fc.constant('set' as const),
    key: fc.constantFrom('a', 'b', 'c'),
    tags: fc.subarray(['t1', 't2']),
    // Mostly the key's own tag, as the store sends it; else another key's (then the watermark
    // must cover the step).
    own: fc.oneof(
      { arbitrary: fc.constant(true), weight: 4 },
      { arbitrary: fc.constant(false), weight: 1 },
    ),
  }),
  fc.record({ kind: fc.constant('load' as const), key: fc.constantFrom('a', 'b', 'c') }),
  fc.record({ kind: fc.constant('invalidate' as const), tag: fc.constantFrom('t1', 't2') }),
)

/** The script's arguments for `calls`, as the store sends them (full keys `ns::<key>`). */
function argsOf(prefix: string, calls: readonly Call[]): string[] {
  const args = [prefix, 'origin']
  for (const c of calls) {
    if (c.kind === 'invalidate') {
      args.push('i', '1', c.tag)
      continue
    }
    const key = `ns::${c.key}`
    const keyTag = c.kind === 'set' && !c.own ? '@key:ns::other' : `@key:${key}`
    const tags = JSON.stringify([...(c.kind === 'set' ? c.tags : []), keyTag])
    // A load's start: a sequence older than any this prefix hands out (its write is checked).
    const start = c.kind === 'load' ? '1' : ''
    args.push('w', '', '1', key, `value of ${c.key}`, tags, '', start, keyTag, '60000')
  }
  return args
}

/**
 * A run's answer as the store reads it: each write's through `writeReply` (the fast path answers
 * a `set` with its step alone), each invalidation's as it came.
 */
function read(run: readonly Call[], answer: unknown): unknown {
  const [epoch, listeners, ...replies] = answer as [string, number, ...unknown[]]
  return [
    epoch,
    listeners,
    ...replies.map((reply, i) =>
      run[i]?.kind === 'invalidate' ? reply : writeReply({ epoch: String(epoch), reply }),
    ),
  ]
}

describe('the steps script: its path for one superseding entry', () => {
  it('leaves the same state and answers as the general path, run after run (100 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(call, { minLength: 1, maxLength: 5 }), {
          minLength: 1,
          maxLength: 4,
        }),
        async (runs) => {
          const [fast, general] = [uniquePrefix(), uniquePrefix()]
          used.push(fast, general)
          const replies: Record<string, unknown[]> = { [fast]: [], [general]: [] }
          for (const run of runs) {
            replies[fast]?.push(read(run, await client.eval(STEPS, 0, ...argsOf(fast, run))))
            replies[general]?.push(
              read(run, await client.eval(GENERAL, 0, ...argsOf(general, run))),
            )
          }
          const [a, b] = [
            await snapshot(fast, replies[fast] ?? []),
            await snapshot(general, replies[general] ?? []),
          ]
          expect(a).toBe(b)
        },
      ),
      { numRuns: 100 },
    )
  })

  it('the general path is really another script', () => {
    expect(GENERAL).not.toBe(STEPS)
    expect(GENERAL).toContain('local asOf, n, base = ARGV[a + 1]')
  })
})
