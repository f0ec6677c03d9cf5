import { createHash } from 'node:crypto'

import { describe, expect, it } from 'vitest'

import { CacheError, isCacheError } from '../../src/errors.js'
import { argsKey } from '../../src/memo/args-key.js'

const key = (...args: unknown[]): string => argsKey('f', args)

/** The CacheError `run` throws (fails the test if it throws nothing or something else). */
const caught = (run: () => unknown): CacheError => {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(CacheError)
    return error as CacheError
  }
  throw new Error('expected a CacheError')
}

class Money {
  constructor(
    readonly amount: number,
    readonly currency: string,
  ) {}
  toJSON(): string {
    return `${this.amount} ${this.currency}`
  }
}

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

describe('argsKey: readable encoding', () => {
  it('is name, a colon and a JSON-like argument list', () => {
    expect(argsKey('getUser', ['42'])).toBe('getUser:["42"]')
    expect(argsKey('getUser', [42])).toBe('getUser:[42]')
    expect(argsKey('list', [])).toBe('list:[]')
    expect(key(1, 'a', true, false, null)).toBe('f:[1,"a",true,false,null]')
    expect(key({ q: 'cats', limit: 10 })).toBe('f:[{"limit":10,"q":"cats"}]')
    expect(key([1, [2, 3]])).toBe('f:[[1,[2,3]]]')
  })

  it('tags values JSON has no form for with bare words', () => {
    expect(key(1n, -2n)).toBe('f:[1n,-2n]')
    expect(key(NaN, Infinity, -Infinity)).toBe('f:[NaN,Infinity,-Infinity]')
    expect(key(undefined, 1)).toBe('f:[undefined,1]')
    expect(key(new Date(Date.UTC(2024, 0, 2)))).toBe('f:[Date(2024-01-02T00:00:00.000Z)]')
    expect(key(new Date(NaN))).toBe('f:[Date(NaN)]')
    expect(key(new Map([['a', 1]]))).toBe('f:[Map{"a":1}]')
    expect(key(new Set([2, 1]))).toBe('f:[Set[1,2]]')
    expect(key(new Uint8Array([1, 2, 255]))).toBe('f:[Uint8Array(AQL_)]')
    expect(key(new Money(5, 'EUR'))).toBe('f:[JSON("5 EUR")]')
  })

  it('escapes strings as JSON does', () => {
    expect(key('a"b\\c\n')).toBe(String.raw`f:["a\"b\\c\n"]`)
    expect(key({ 'a"': 1 })).toBe(String.raw`f:[{"a\"":1}]`)
  })

  it('is the same for the same call', () => {
    const args = [1, 'x', { a: [1, 2, { b: new Date(0) }] }, new Map([[1, new Set([1])]])]
    expect(argsKey('f', args)).toBe(argsKey('f', structuredClone(args)))
  })

  it('differs by name', () => {
    expect(argsKey('f', [1])).not.toBe(argsKey('g', [1]))
  })
})

describe('argsKey: equal values share a key', () => {
  it('ignores object key order, nested too', () => {
    expect(key({ a: 1, b: 2 })).toBe(key({ b: 2, a: 1 }))
    expect(key({ x: { a: 1, b: [{ c: 1, d: 2 }] }, y: 0 })).toBe(
      key({ y: 0, x: { b: [{ d: 2, c: 1 }], a: 1 } }),
    )
    expect(key({ 2: 'a', 10: 'b', z: 1 })).toBe(key({ z: 1, 10: 'b', 2: 'a' }))
  })

  it('treats a trailing undefined argument as absent', () => {
    expect(key(1)).toBe(key(1, undefined))
    expect(key(1)).toBe(key(1, undefined, undefined))
    expect(key()).toBe(key(undefined))
    expect(key(undefined, 1)).not.toBe(key(1))
    expect(key(undefined, 1)).not.toBe(key(null, 1))
    expect(key(1, undefined, 2)).not.toBe(key(1, 2))
  })

  it('treats an object property set to undefined as absent', () => {
    expect(key({ a: 1, b: undefined })).toBe(key({ a: 1 }))
    expect(key({ a: undefined })).toBe(key({}))
  })

  it('keeps undefined inside arrays (and a hole is undefined)', () => {
    expect(key([undefined])).not.toBe(key([]))
    expect(key([undefined])).not.toBe(key([null]))
    // eslint-disable-next-line no-sparse-arrays
    expect(key([1, , 3])).toBe(key([1, undefined, 3]))
  })

  it('keys Dates by time value', () => {
    expect(key(new Date(1_700_000_000_000))).toBe(key(new Date(1_700_000_000_000)))
    expect(key(new Date(1_700_000_000_000))).not.toBe(key(new Date(1_700_000_000_001)))
    expect(key(new Date('2024-01-01T01:00:00+01:00'))).toBe(key(new Date('2024-01-01T00:00:00Z')))
    expect(key(new Date(NaN))).toBe(key(new Date('not a date')))
  })

  it('keys Maps by entries, whatever their order', () => {
    const a = new Map<unknown, unknown>([
      ['x', 1],
      [2, { b: 1, a: 2 }],
      [{ k: 1 }, 'obj'],
    ])
    const b = new Map<unknown, unknown>([
      [{ k: 1 }, 'obj'],
      [2, { a: 2, b: 1 }],
      ['x', 1],
    ])
    expect(key(a)).toBe(key(b))
    expect(key(new Map([['x', 1]]))).not.toBe(key(new Map([['x', 2]])))
    expect(key(new Map([['x', 1]]))).not.toBe(key(new Map([['y', 1]])))
    expect(key(new Map([[1, 1]]))).not.toBe(key(new Map([['1', 1]])))
  })

  it('orders Map entries with keys that encode alike by value', () => {
    const a = new Map<object, number>([
      [{ k: 1 }, 2],
      [{ k: 1 }, 1],
    ])
    const b = new Map<object, number>([
      [{ k: 1 }, 1],
      [{ k: 1 }, 2],
    ])
    expect(key(a)).toBe(key(b))
  })

  it('keys Sets by elements, whatever their order', () => {
    expect(key(new Set([1, 'a', { b: 1 }]))).toBe(key(new Set([{ b: 1 }, 'a', 1])))
    expect(key(new Set([1, 2]))).not.toBe(key(new Set([1, 3])))
    expect(key(new Set([1]))).not.toBe(key(new Set([1, 2])))
  })

  it('keeps array order', () => {
    expect(key([1, 2])).not.toBe(key([2, 1]))
    expect(key(1, 2)).not.toBe(key(2, 1))
  })

  it('keys typed arrays and Buffers by bytes', () => {
    expect(key(new Uint8Array([1, 2]))).toBe(key(new Uint8Array([1, 2])))
    expect(key(new Uint8Array([1, 2]))).not.toBe(key(new Uint8Array([1, 3])))
    expect(key(Buffer.from([1, 2]))).toBe(key(new Uint8Array([1, 2])))
    // a view keys by its own bytes, not by the whole buffer behind it
    expect(key(new Uint8Array([9, 1, 2, 9]).subarray(1, 3))).toBe(key(new Uint8Array([1, 2])))
    expect(key(new Float64Array([1.5]))).toBe(key(new Float64Array([1.5])))
    expect(key(new BigInt64Array([1n]))).not.toBe(key(new BigInt64Array([2n])))
    expect(key(new Uint8Array([1, 2]).buffer)).toBe(key(new Uint8Array([1, 2]).buffer))
    expect(key(new DataView(new Uint8Array([1, 2]).buffer))).toBe(
      key(new DataView(new Uint8Array([1, 2]).buffer)),
    )
  })

  it('treats -0 as 0, and NaN as NaN', () => {
    expect(key(-0)).toBe(key(0))
    expect(key({ a: -0 })).toBe(key({ a: 0 }))
    expect(key(NaN)).toBe(key(Number('x')))
  })

  it('keys class instances with toJSON() by its result', () => {
    expect(key(new Money(5, 'EUR'))).toBe(key(new Money(5, 'EUR')))
    expect(key(new Money(5, 'EUR'))).not.toBe(key(new Money(6, 'EUR')))
    expect(key({ price: new Money(1, 'USD') })).toBe(key({ price: new Money(1, 'USD') }))
  })

  it('keys objects without a prototype as plain objects', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { b: 2, a: 1 })
    expect(key(bare)).toBe(key({ a: 1, b: 2 }))
  })

  it('a value seen twice (not a cycle) is fine', () => {
    const shared = { a: 1 }
    expect(key([shared, shared], shared)).toBe(key([{ a: 1 }, { a: 1 }], { a: 1 }))
  })
})

describe('argsKey: different values never collide', () => {
  const distinct: [string, unknown[]][] = [
    ['no arguments', []],
    ['1', [1]],
    ["'1'", ['1']],
    ['1.5', [1.5]],
    ["'1.5'", ['1.5']],
    ['1n', [1n]],
    ["'1n'", ['1n']],
    ['-1', [-1]],
    ['-1n', [-1n]],
    ['true', [true]],
    ["'true'", ['true']],
    ['false', [false]],
    ['null', [null]],
    ["'null'", ['null']],
    ['[undefined]', [undefined, 0]],
    ["'undefined'", ['undefined', 0]],
    ['NaN', [NaN]],
    ["'NaN'", ['NaN']],
    ['Infinity', [Infinity]],
    ["'Infinity'", ['Infinity']],
    ['-Infinity', [-Infinity]],
    ["'-Infinity'", ['-Infinity']],
    ['Date(0)', [new Date(0)]],
    ['its time value', [0]],
    ['its ISO string', ['1970-01-01T00:00:00.000Z']],
    ["'Date(…)'", ['Date(1970-01-01T00:00:00.000Z)']],
    ["'D(0)'", ['D(0)']],
    ['invalid date', [new Date(NaN)]],
    ["'Date(NaN)'", ['Date(NaN)']],
    ['[1,2]', [[1, 2]]],
    ["'[1,2]'", ['[1,2]']],
    ['1, 2', [1, 2]],
    ["'1,2'", ['1,2']],
    ["'a', 'b'", ['a', 'b']],
    ["'a,b'", ['a,b']],
    ['\'a","b\'', ['a","b']],
    ['[[1]]', [[[1]]]],
    ['[[[1]]]', [[[[1]]]]],
    ['{}', [{}]],
    ['[]', [[]]],
    ["'{}'", ['{}']],
    ["'[]'", ['[]']],
    ['{a:1}', [{ a: 1 }]],
    ['{a:"1"}', [{ a: '1' }]],
    ['\'{"a":1}\'', ['{"a":1}']],
    ['{"1":1}', [{ 1: 1 }]],
    ['[[a,1]]', [[['a', 1]]]],
    ['Map{}', [new Map()]],
    ["'Map{}'", ['Map{}']],
    ['Map{a:1}', [new Map([['a', 1]])]],
    ['Map{1:1}', [new Map([[1, 1]])]],
    ['Set[]', [new Set()]],
    ["'Set[]'", ['Set[]']],
    ['Set[1]', [new Set([1])]],
    ['Set[[1]]', [new Set([[1]])]],
    ['Uint8Array()', [new Uint8Array()]],
    ["'Uint8Array()'", ['Uint8Array()']],
    ['Uint8Array[1]', [new Uint8Array([1])]],
    ['Int8Array[1]', [new Int8Array([1])]],
    ['Uint16Array[1]', [new Uint16Array([1])]],
    ['Uint8Array[1,0]', [new Uint8Array([1, 0])]],
    ['ArrayBuffer[1]', [new Uint8Array([1]).buffer]],
    ['DataView[1]', [new DataView(new Uint8Array([1]).buffer)]],
    ['Money', [new Money(1, 'EUR')]],
    ["'1 EUR'", ['1 EUR']],
    ['\'JSON("1 EUR")\'', ['JSON("1 EUR")']],
    ['empty string', ['']],
    ['space', [' ']],
    ['lone surrogate d800', ['\ud800']],
    ['lone surrogate d801', ['\ud801']],
    ['replacement char', ['\ufffd']],
  ]

  it('gives each of these calls its own key', () => {
    const seen = new Map<string, string>()
    for (const [label, args] of distinct) {
      const k = argsKey('f', args)
      expect(seen.get(k), `${label} collides`).toBeUndefined()
      seen.set(k, label)
    }
    expect(seen.size).toBe(distinct.length)
  })

  it('gives each of these calls its own key when hashed', () => {
    // A long first argument forces hashing: the hash is taken over an injective encoding.
    const pad = 'x'.repeat(300)
    const keys = new Set(distinct.map(([, args]) => argsKey('f', [pad, ...args])))
    expect(keys.size).toBe(distinct.length)
  })
})

describe('argsKey: long keys are hashed', () => {
  // ["…"] adds 4 characters to a string argument.
  const ofLength = (n: number): string => 'a'.repeat(n - 4)

  it('keeps an argument part of up to 200 characters readable', () => {
    expect(key(ofLength(200))).toBe(`f:["${ofLength(200)}"]`)
  })

  it('replaces a longer one by # and its SHA-256 in base64url', () => {
    const part = `["${ofLength(201)}"]`
    const expected = '#' + createHash('sha256').update(part).digest('base64url')
    expect(key(ofLength(201))).toBe(`f:${expected}`)
    expect(key(ofLength(201))).toMatch(/^f:#[\w-]{43}$/)
  })

  it('bounds the key length whatever the arguments', () => {
    const huge = { list: Array.from({ length: 10_000 }, (_, i) => ({ i, name: `item ${i}` })) }
    expect(argsKey('search', [huge, 'x'.repeat(100_000)])).toHaveLength('search:'.length + 44)
  })

  it('same input, same key; a different input, a different key', () => {
    const big = (last: number) => ({ rows: Array.from({ length: 100 }, (_, i) => i), last })
    expect(key(big(1))).toBe(key(big(1)))
    expect(key(big(1))).not.toBe(key(big(2)))
    expect(key('x'.repeat(500))).not.toBe(key('x'.repeat(501)))
  })

  it('is order-insensitive when hashed too', () => {
    const entries = Array.from({ length: 50 }, (_, i) => [`k${i}`, i] as const)
    const forward = Object.fromEntries(entries)
    const backward = Object.fromEntries([...entries].reverse())
    expect(key(forward)).toMatch(/^f:#/)
    expect(key(forward)).toBe(key(backward))
    expect(key(new Set(entries.map(([k]) => k)))).toBe(
      key(new Set([...entries].reverse().map(([k]) => k))),
    )
  })
})

describe('argsKey: values without a stable identity are rejected', () => {
  it('rejects a function, naming the argument', () => {
    const error = caught(() => argsKey('getUser', [() => 1]))
    expect(error.code).toBe('E_INVALID_VALUE')
    expect(error.message).toContain(
      'argument 1 of getUser cannot be part of a cache key (function)',
    )
  })

  it('rejects a symbol, naming the argument', () => {
    const error = caught(() => argsKey('getUser', [1, Symbol('s')]))
    expect(error.code).toBe('E_INVALID_VALUE')
    expect(error.message).toContain('argument 2 of getUser cannot be part of a cache key (symbol)')
  })

  it('names where a nested value sits', () => {
    const nested = caught(() => key(1, { options: { onDone: () => {} } }))
    expect(nested.message).toContain('argument 2 of f')
    expect(nested.message).toContain('(function at .options.onDone)')
    expect(caught(() => key([1, [2, Symbol('s')]])).message).toContain('(symbol at [1][1])')
    expect(caught(() => key({ 'a-b': [() => 1] })).message).toContain('(function at ["a-b"][0])')
    expect(caught(() => key(new Map([['k', () => 1]]))).message).toContain(
      '(function at .get("k"))',
    )
    expect(caught(() => key(new Map([[() => 1, 'v']]))).message).toContain(
      '(function at {a Map key})',
    )
    expect(caught(() => key(new Set([Symbol('s')]))).message).toContain(
      '(symbol at {a Set element})',
    )
  })

  it('rejects cycles', () => {
    const object: Record<string, unknown> = { a: 1 }
    object.self = object
    const array: unknown[] = [1]
    array.push(array)
    const map = new Map<string, unknown>()
    map.set('me', map)
    const deep = { list: [{ parent: null as unknown }] }
    deep.list[0]!.parent = deep
    for (const [value, where] of [
      [object, 'at .self'],
      [array, 'at [1]'],
      [map, 'at .get("me")'],
      [deep, 'at .list[0].parent'],
    ] as const) {
      const error = caught(() => key(value))
      expect(error.code).toBe('E_INVALID_VALUE')
      expect(error.message).toContain(
        `argument 1 of f cannot be part of a cache key (cycle ${where})`,
      )
    }
  })

  it('rejects class instances without toJSON(), naming the class', () => {
    const point = caught(() => key(new Point(1, 2)))
    expect(point.code).toBe('E_INVALID_VALUE')
    expect(point.message).toContain('(instance of Point)')
    expect(caught(() => key(/re/)).message).toContain('(instance of RegExp)')
    expect(caught(() => key(new Error('x'))).message).toContain('(instance of Error)')
    expect(caught(() => key(Promise.resolve(1))).message).toContain('(instance of Promise)')
    expect(caught(() => key(new WeakMap())).message).toContain('(instance of WeakMap)')
  })

  it('rejects what a toJSON() result holds', () => {
    class Bad {
      toJSON() {
        return { f: () => 1 }
      }
    }
    expect(caught(() => key(new Bad())).message).toContain('(function at .toJSON().f)')
  })

  it('rejects a toJSON() that returns the instance itself', () => {
    class Self {
      toJSON(): unknown {
        return this
      }
    }
    expect(caught(() => key(new Self())).message).toContain('(cycle at .toJSON())')
  })

  it('rejects a plain object holding a function, even one named toJSON', () => {
    expect(caught(() => key({ toJSON: () => 'x' })).message).toContain('(function at .toJSON)')
  })

  it('lets other errors through as thrown', () => {
    const boom = new Error('boom')
    class Throws {
      toJSON(): never {
        throw boom
      }
    }
    expect(() => key(new Throws())).toThrow(boom)
  })
})

describe('argsKey: name and arguments', () => {
  it('needs a non-empty name', () => {
    for (const name of ['', undefined, 42]) {
      const error = caught(() => argsKey(name as string, []))
      expect(error.code).toBe('E_INVALID_OPTION')
      expect(error.message).toContain('`name`')
    }
  })

  it('needs an argument list', () => {
    const error = caught(() => argsKey('f', 'abc' as unknown as unknown[]))
    expect(isCacheError(error, 'E_INVALID_VALUE')).toBe(true)
  })

  it('keeps a name with a colon apart from its arguments', () => {
    expect(argsKey('a:b', [1])).toBe('a:b:[1]')
    expect(argsKey('a:b', [1])).not.toBe(argsKey('a', ['b', 1]))
  })
})
