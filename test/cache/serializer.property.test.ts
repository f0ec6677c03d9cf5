import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { richJson, taggedJson } from '../../src/cache/serializer.js'

/**
 * The default serializer writes plain values with a bare `JSON.stringify` and everything else
 * through its tagging replacer: for any value, what it writes is what the replacer alone writes,
 * and it reads back equal.
 */
describe('richJson', () => {
  const values = fc.oneof(
    fc.jsonValue(),
    fc.anything({
      withBigInt: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withTypedArray: true,
      withNullPrototype: true,
      withObjectString: true,
      withSparseArray: true,
    }),
  )

  it('writes exactly what the tagging replacer writes', () => {
    fc.assert(
      fc.property(values, (value) => {
        let expected: string | Error
        try {
          expected = taggedJson(value)
        } catch (error) {
          expected = error as Error
        }
        if (expected instanceof Error) expect(() => richJson.serialize(value)).toThrow()
        else expect(richJson.serialize(value)).toBe(expected)
      }),
      { numRuns: 2_000 },
    )
  })

  it('reads plain JSON back equal', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = richJson.serialize(value)
        expect(text.startsWith('j')).toBe(true)
        // JSON has no -0: it reads back as 0, as JSON.parse gives it.
        expect(richJson.deserialize(text)).toEqual(JSON.parse(JSON.stringify(value)))
      }),
    )
  })

  it('leaves odd cases to the tagging path', () => {
    const marked = { $cg: 'Date', v: 1 }
    expect(richJson.serialize(marked)).toBe(taggedJson(marked))
    expect(richJson.deserialize(richJson.serialize(marked))).toEqual(marked)
    const withToJson = { a: 1, toJSON: () => ({ when: new Date(5) }) }
    expect(richJson.serialize(withToJson)).toBe(taggedJson(withToJson))
    let deep: unknown = 'leaf'
    for (let i = 0; i < 200; i++) deep = [deep]
    expect(richJson.serialize(deep)).toBe(taggedJson(deep))
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    expect(() => richJson.serialize(cycle)).toThrow()
    expect(richJson.serialize([1, undefined, Number.NaN])).toBe(
      taggedJson([1, undefined, Number.NaN]),
    )
  })
})
