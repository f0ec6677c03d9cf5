import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { JsonSyntaxError, MAX_DEPTH, parseExactJson } from '../../src/protocol/exact-json.js'

describe('parseExactJson', () => {
  it('reads what JSON.parse reads, when every number is a float exactly', () => {
    const safe = fc.jsonValue().filter((value) => {
      let exact = true
      JSON.stringify(value, (_key, v: unknown) => {
        if (typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v)) exact = false
        return v
      })
      return exact
    })
    fc.assert(
      fc.property(safe, fc.boolean(), (value, pretty) => {
        const text = JSON.stringify(value, null, pretty ? 2 : undefined)
        expect(parseExactJson(text)).toStrictEqual(JSON.parse(text))
      }),
      { numRuns: 2_000 },
    )
  })

  it('refuses what JSON.parse refuses', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'{}[]",:0123456789.eE+-truefalsn \\u') }),
        (text) => {
          let expected = true
          try {
            JSON.parse(text)
          } catch {
            expected = false
          }
          let actual = true
          try {
            parseExactJson(text)
          } catch (error) {
            expect(error).toBeInstanceOf(JsonSyntaxError)
            // JSON all the same, with a number a float would round: refused on purpose.
            actual = (error as JsonSyntaxError).inexact
          }
          expect(actual, text).toBe(expected)
        },
      ),
      { numRuns: 5_000 },
    )
  })

  it('keeps integers beyond 2^53 as bigints of their digits', () => {
    expect(parseExactJson('{"id":12345678901234567890}')).toEqual({ id: 12345678901234567890n })
    expect(parseExactJson('[-9007199254740993, 9007199254740991]')).toEqual([
      -9007199254740993n,
      9007199254740991,
    ])
  })

  it('refuses a number that would be rounded', () => {
    for (const text of ['1.2345678901234567890e19', '0.10000000000000000001', '1e400', '-1e400']) {
      expect(() => parseExactJson(text), text).toThrow(/cannot be kept exactly/)
    }
    expect(parseExactJson('[1.50, 1e3, 0.1, -0, 5e-324]')).toEqual([1.5, 1000, 0.1, -0, 5e-324])
  })

  it('keeps __proto__ as an own key, as JSON.parse does', () => {
    const value = parseExactJson('{"__proto__":{"polluted":true}}') as Record<string, unknown>
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
    expect(Object.keys(value)).toEqual(['__proto__'])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('refuses nesting past its bound instead of overflowing the stack', () => {
    expect(() => parseExactJson('['.repeat(1_000_000))).toThrow(JsonSyntaxError)
    expect(() => parseExactJson(`${'['.repeat(MAX_DEPTH)}${']'.repeat(MAX_DEPTH)}`)).not.toThrow()
  })
})
