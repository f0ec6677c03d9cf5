import fc from 'fast-check'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, inject, it } from 'vitest'

import { PRELUDE } from '../../src/redis/scripts.js'

/**
 * `carry` (quiet-script.ts) notes the key tags a stored entry carries, from the tags JSON the
 * store sends. It skips decoding when the only key tag listed is the entry's own: that shortcut
 * must note exactly what decoding would, whatever the tags — quotes, backslashes, `@key:` inside
 * other tags, prefixes of the own key tag.
 */
const client = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 })
afterAll(() => client.disconnect())

const CARRIED = `${PRELUDE}
cur = '7'
carry(ARGV[2], ARGV[3])
local out = {}
for tag in pairs(carried) do out[#out + 1] = tag end
table.sort(out)
return out
`

const piece = fc.constantFrom('@key:', 'a', 'ns::k', '"', '\\\\', 'x', ':', 'é', '/')
const tag = fc.array(piece, { minLength: 1, maxLength: 5 }).map((parts) => parts.join(''))

describe('carry: the key tags a stored entry carries', () => {
  it('notes its own key tag and every tag that starts with @key:, nothing else (300 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(tag, { maxLength: 5 }),
        fc.oneof(
          tag.map((t) => `@key:${t}`),
          fc.constant(''),
        ),
        fc.option(fc.nat(5), { nil: undefined }),
        fc.option(piece, { nil: undefined }),
        async (others, own, at, longer) => {
          // A tag the own key tag is a prefix of, sometimes; the own key tag listed at some place
          // among the others, or not at all.
          const tags = longer !== undefined && own !== '' ? [...others, own + longer] : others
          const all = at !== undefined && own !== '' ? tags.toSpliced(at, 0, own) : tags
          const expected = [
            ...new Set([...(own === '' ? [] : [own]), ...all.filter((t) => t.startsWith('@key:'))]),
          ].sort(byBytes)
          const got = (await client.eval(CARRIED, 0, 'cgtest-carry', JSON.stringify(all), own)) as
            string[] | null
          expect([...(got ?? [])].sort(byBytes)).toEqual(expected)
        },
      ),
      { numRuns: 300 },
    )
  })
})

/** Lua's `table.sort` compares bytes; so does this. */
function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}
