import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { richJson } from '../../src/cache/serializer.js'
import { decodeEntry, encodeEntry } from '../../src/cache/tiers/entry-codec.js'
import { parseEntry } from '../../src/redis/reply.js'
import { numberAt } from '../../src/util/digits.js'

/**
 * The entry strings of the Redis store are read without `JSON.parse` and without slicing where
 * the common form allows (on every shared-tier hit): what they read must be what the general
 * parse reads, for any tags, starts and header numbers.
 */
const seed = Number(process.env.FC_SEED ?? 20_261_206)

describe('entry strings read as the general parse reads them', () => {
  it('numberAt reads what Number reads', () => {
    const text = fc.oneof(
      fc.stringMatching(/^[0-9]{0,20}$/),
      fc.constantFrom('Infinity', '-5', '1.5', '1e3', ' 12', '', '0x10', '9007199254740993'),
      fc.string(),
    )
    fc.assert(
      fc.property(text, fc.string({ maxLength: 3 }), (body, pad) => {
        const line = `${pad}${body},`
        expect(numberAt(line, pad.length, pad.length + body.length)).toBe(Number(body))
      }),
      { seed, numRuns: 2_000 },
    )
  })

  it('parseEntry reads tags, starts and payload as JSON.parse does', () => {
    const tag = fc.oneof(fc.string(), fc.stringMatching(/^[a-z:@0-9]{0,12}$/))
    fc.assert(
      fc.property(
        fc.array(tag, { maxLength: 6 }),
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.boolean(),
        fc.string(),
        (tags, start, perTag, payload) => {
          const tagStarts = perTag ? tags.map((_, i) => start - i) : undefined
          const entry = `${start}\n${JSON.stringify(tags)}\n${tagStarts === undefined ? '' : JSON.stringify(tagStarts)}\n${payload}`
          const record = parseEntry(entry)
          expect(record.tags).toEqual(tags)
          expect(record.start).toBe(start)
          expect(record.tagStarts).toEqual(tagStarts)
          expect(record.payload).toBe(payload)
        },
      ),
      { seed, numRuns: 1_000 },
    )
  })

  it('decodeEntry reads back what encodeEntry wrote', () => {
    const meta = fc.record({
      createdAt: fc.nat(),
      expiresAt: fc.oneof(fc.nat(), fc.constant(Infinity)),
      staleUntil: fc.oneof(fc.nat(), fc.constant(Infinity)),
      version: fc.option(fc.string(), { nil: undefined }),
    })
    fc.assert(
      fc.property(fc.jsonValue(), meta, (value, m) => {
        const payload = encodeEntry(richJson, value, m)
        const entry = decodeEntry(richJson, { payload, start: 1, tags: [], tagStarts: undefined })
        // As JSON reads it (-0 comes back as 0).
        expect(entry.value).toEqual(JSON.parse(JSON.stringify(value)))
        expect(entry.createdAt).toBe(m.createdAt)
        expect(entry.expiresAt).toBe(m.expiresAt)
        expect(entry.staleUntil).toBe(m.staleUntil)
        expect(entry.version).toBe(m.version === '' ? undefined : m.version)
      }),
      { seed, numRuns: 1_000 },
    )
  })
})
