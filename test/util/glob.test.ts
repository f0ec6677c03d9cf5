import { randomUUID } from 'node:crypto'

import fc from 'fast-check'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, inject, it } from 'vitest'

import { isCacheError } from '../../src/errors.js'
import { compileGlob, MAX_PATTERN_BYTES } from '../../src/util/glob.js'
import { redisStringMatch } from './redis-stringmatch.js'

const matches = (pattern: string, key: string) => compileGlob(pattern).test(key)

describe('compileGlob: Redis glob syntax', () => {
  it('matches stars, question marks, sets, negated sets and escapes', () => {
    expect(matches('user:*', 'user:42')).toBe(true)
    expect(matches('user:*', 'users')).toBe(false)
    expect(matches('h?llo', 'hello')).toBe(true)
    expect(matches('h[ae]llo', 'hallo')).toBe(true)
    expect(matches('h[^e]llo', 'hello')).toBe(false)
    expect(matches('h[a-b]llo', 'hbllo')).toBe(true)
    expect(matches('a\\*b', 'a*b')).toBe(true)
    expect(matches('a\\*b', 'axb')).toBe(false)
    expect(matches('a\\', 'a\\')).toBe(true)
  })

  it('takes a reversed range as Redis does (swapped), never a SyntaxError', () => {
    expect(matches('[z-a]', 'm')).toBe(true)
    expect(matches('[z-a]', 'A')).toBe(false)
    expect(matches('x[9-0]', 'x5')).toBe(true)
  })

  it('reads open sets, `[a-]` and escapes inside sets as Redis does', () => {
    // An open set holds what follows the `[`.
    expect(matches('a[bc', 'ac')).toBe(true)
    expect(matches('a[bc', 'a[')).toBe(false)
    expect(matches('a[', 'a')).toBe(false)
    expect(matches('a[^', 'ax')).toBe(true)
    // `[a-]` is the range `]`..`a`, and the set goes on to the next `]`.
    expect(matches('[a-]x]', '^x')).toBe(false)
    expect(matches('[a-]x]', '^')).toBe(true)
    expect(matches('[\\]]', ']')).toBe(true)
    // `[]` is an empty set: it matches no byte.
    expect(matches('[]a]', 'xa]')).toBe(false)
    expect(matches('[^]a', 'xa')).toBe(true)
  })

  it('matches bytes: `?` is one UTF-8 byte', () => {
    expect(matches('?', 'é')).toBe(false)
    expect(matches('??', 'é')).toBe(true)
    expect(matches('caf?', 'café')).toBe(false)
  })

  it('keeps Redis quirks: the empty key, the star nesting limit', () => {
    expect(matches('*', '')).toBe(false)
    expect(matches('', '')).toBe(true)
    const key = 'a'.repeat(1_100)
    expect(matches(`${'*a'.repeat(1_000)}*`, key)).toBe(true)
    expect(matches('*a'.repeat(1_001), key)).toBe(false)
  })

  it('refuses what cannot be a pattern with E_INVALID_PATTERN', () => {
    const refused = (pattern: unknown) => {
      try {
        compileGlob(pattern as string)
      } catch (error) {
        return isCacheError(error, 'E_INVALID_PATTERN')
      }
      return false
    }
    expect(refused(42)).toBe(true)
    expect(refused('x'.repeat(MAX_PATTERN_BYTES + 1))).toBe(true)
    expect(refused('x'.repeat(MAX_PATTERN_BYTES))).toBe(false)
  })

  it('matches in time linear in the key: no exponential backtracking', () => {
    // A RegExp translation takes minutes here; linear matching takes milliseconds. The bound is
    // two orders of magnitude above the expected time, so a busy machine cannot fail it.
    const key = 'a'.repeat(20_000)
    const pattern = `${'*a'.repeat(40)}*b`
    const started = performance.now()
    expect(matches(pattern, key)).toBe(false)
    expect(matches(`${'*?'.repeat(40)}*[b]`, key)).toBe(false)
    expect(performance.now() - started).toBeLessThan(5_000)
  })
})

/** Pattern pieces that exercise every branch of Redis's matcher. */
const PATTERN_PARTS = ['a', 'b', 'é', '*', '**', '?', '[', ']', '^', '-', '\\', '[a-b]', '[^a]']
const KEY_CHARS = ['a', 'b', 'é', '*', '?', '[', ']', '^', '-', '\\', 'z']
const pattern = fc.array(fc.constantFrom(...PATTERN_PARTS), { maxLength: 8 }).map((p) => p.join(''))
const key = fc
  .array(fc.constantFrom(...KEY_CHARS), { minLength: 1, maxLength: 8 })
  .map((k) => k.join(''))

describe('compileGlob agrees with Redis', () => {
  it('with a port of util.c stringmatchlen on generated patterns and keys', () => {
    fc.assert(
      fc.property(pattern, key, (p, k) => {
        expect(matches(p, k)).toBe(redisStringMatch(Buffer.from(p), Buffer.from(k)))
      }),
      { numRuns: 20_000 },
    )
  })

  // A database of its own (keys under a private prefix all the same): SCAN walks a whole
  // database, and the shared one may hold many keys of other tests.
  const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1, db: 13 })
  afterAll(() => redis.quit())
  /** Every key matching `match`: a full SCAN (never KEYS on a shared Redis). */
  const scanAll = async (match: string): Promise<string[]> => {
    const found: string[] = []
    let cursor = '0'
    do {
      const [next, page] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 10_000)
      found.push(...page)
      cursor = next
    } while (cursor !== '0')
    return found
  }

  it('with real Redis SCAN MATCH on generated patterns and keys', async () => {
    const base = `cgtest:glob:${randomUUID()}:`
    let run = 0
    await fc.assert(
      fc.asyncProperty(
        pattern,
        fc.uniqueArray(key, { minLength: 1, maxLength: 12 }),
        async (p, keys) => {
          const prefix = `${base}${run++}:`
          const write = redis.pipeline()
          for (const k of keys) write.set(prefix + k, '1', 'PX', 60_000)
          await write.exec()
          const found = new Set(
            (await scanAll(prefix + p)).map((full) => full.slice(prefix.length)),
          )
          await redis.del(...keys.map((k) => prefix + k))
          for (const k of keys) expect(matches(p, k), `${p} ~ ${k}`).toBe(found.has(k))
        },
      ),
      { numRuns: 300 },
    )
  })

  it('with real Redis on the star nesting limit', async () => {
    const prefix = `cgtest:glob:${randomUUID()}:`
    const k = 'a'.repeat(1_100)
    await redis.set(prefix + k, '1', 'PX', 60_000)
    for (const p of [`${'*a'.repeat(1_000)}*`, '*a'.repeat(1_000), '*a'.repeat(1_001)]) {
      const found = await scanAll(prefix + p)
      expect(matches(p, k), p.slice(0, 10)).toBe(found.includes(prefix + k))
    }
    await redis.del(prefix + k)
  })
})
