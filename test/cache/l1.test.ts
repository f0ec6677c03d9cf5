import { describe, expect, it } from 'vitest'
import fc from 'fast-check'

import { L1, type L1Entry } from '../../src/cache/tiers/l1.js'
import { Validity } from '../../src/cache/model/tag-registry.js'

const entry = (value: unknown, start = 1, size = 0): L1Entry => ({
  value,
  tags: [],
  start,
  tagStarts: undefined,
  createdAt: 0,
  expiresAt: Infinity,
  staleUntil: Infinity,
  version: undefined,
  checkedAt: 0,
  validity: Validity.Valid,
  size,
  failure: false,
})

describe('L1 (SIEVE eviction)', () => {
  it('an entry hit since the hand last passed survives; an unvisited one goes', () => {
    const l1 = new L1({ maxEntries: 3, maxBytes: undefined })
    for (const key of ['a', 'b', 'c']) l1.set(key, entry(key), 0)
    l1.get('a')
    l1.get('b')
    l1.set('d', entry('d'), 0) // hand from the oldest: a, b visited (cleared), c evicted
    expect([...l1.entries()].map(([k]) => k).sort()).toEqual(['a', 'b', 'd'])
    l1.set('e', entry('e'), 0) // hand goes on from where it stopped: d is unvisited
    expect([...l1.entries()].map(([k]) => k).sort()).toEqual(['a', 'b', 'e'])
  })

  it('keeps its size bound and list integrity under random operations', () => {
    const l1 = new L1({ maxEntries: 50, maxBytes: 2_000 })
    let seed = 7
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
    const model = new Map<string, unknown>()
    for (let i = 0; i < 20_000; i++) {
      const key = `k${Math.floor(random() * 120)}`
      const op = random()
      if (op < 0.5) {
        l1.set(key, entry(i, i, Math.floor(random() * 100)), 0)
        model.set(key, i)
      } else if (op < 0.85) {
        const got = l1.get(key)
        if (got !== undefined) expect(got.value).toBe(model.get(key))
      } else if (op < 0.98) {
        l1.delete(key)
        model.delete(key)
      } else {
        l1.clear()
        model.clear()
      }
      expect(l1.size).toBeLessThanOrEqual(50)
    }
    const bytes = [...l1.entries()].reduce((n, [, e]) => n + e.size, 0)
    expect(bytes).toBeLessThanOrEqual(2_000)
    // Every entry left is one the model agrees on (evictions only ever remove).
    for (const [key, e] of l1.entries()) expect(e.value).toBe(model.get(key))
  })

  it('never lets an older snapshot replace a newer live entry; a value over maxBytes is not kept', () => {
    const l1 = new L1({ maxEntries: 10, maxBytes: 100 })
    expect(l1.set('k', entry('new', 5), 0)).toBe(true)
    expect(l1.set('k', entry('old', 4), 0)).toBe(false)
    expect(l1.get('k')?.value).toBe('new')
    expect(l1.set('big', entry('x', 1, 500), 0)).toBe(false)
    expect(l1.get('big')).toBeUndefined()
  })
})

describe('L1 entries keep their times and start exactly', () => {
  const times = (start: number, createdAt: number, expiresAt: number, staleUntil: number) => ({
    ...entry('v', start),
    createdAt,
    expiresAt,
    staleUntil,
  })
  const cases: [string, L1Entry][] = [
    [
      'wall-clock times',
      times(1_765_000_000_123, 1_765_000_000_000, 1_765_000_060_000, 1_765_000_090_000),
    ],
    ['a fake clock at 0', times(0, 0, 1_000, 1_000)],
    [
      'a jittered ttl',
      times(
        5,
        1_765_000_000_000,
        1_765_000_000_000 + 59_123.456789,
        1_765_000_000_000 + 59_123.456789 + 30_000,
      ),
    ],
    ['no expiry', times(-3, 1_765_000_000_000, Infinity, Infinity)],
    ['expired long ago, a start far from the first', times(2 ** 52, -1e15, -5e14, 7e15)],
    ['fractions', times(0.5, 0.1, 0.30000000000000004, 1e-300)],
    ['no start yet', times(Infinity, 7, 9, 9)],
    ['int32 times far from the others', times(-5, 2 ** 31 - 1, 5, -(2 ** 31))],
  ]
  for (const [name, given] of cases) {
    it(name, () => {
      const l1 = new L1({ maxEntries: 10, maxBytes: undefined })
      l1.set('k', given, 0)
      const kept = l1.get('k') as L1Entry
      expect({
        start: kept.start,
        createdAt: kept.createdAt,
        expiresAt: kept.expiresAt,
        staleUntil: kept.staleUntil,
      }).toEqual({
        start: given.start,
        createdAt: given.createdAt,
        expiresAt: given.expiresAt,
        staleUntil: given.staleUntil,
      })
    })
  }
})

describe('L1 entries keep every field, whatever the entries around them share', () => {
  const time = fc.oneof(
    fc.constantFrom(0, Infinity, 1_765_000_000_000, 2 ** 31 - 1, -(2 ** 31)),
    fc.integer({ min: -1e6, max: 1e6 }).map((d) => 1_765_000_000_000 + d),
    // -0 comes back as 0 (kept as an offset): the same time, not the same bits.
    fc.double({ noNaN: true }).map((d) => (d === 0 ? 0 : d)),
  )
  const given = fc.record({
    start: time,
    createdAt: time,
    expiresAt: time,
    staleUntil: time,
    version: fc.constantFrom(undefined, 'v1', 'v2'),
    validity: fc.constantFrom(Validity.Valid, Validity.Soft, Validity.Invalid),
    failure: fc.boolean(),
  })

  it('times, start, version, validity and failure come back as given (300 runs)', () => {
    fc.assert(
      fc.property(fc.array(given, { minLength: 1, maxLength: 40 }), fc.boolean(), (all, hit) => {
        const l1 = new L1({ maxEntries: 100, maxBytes: undefined })
        all.forEach((g, i) => l1.set(`k${i}`, { ...entry('v', g.start), ...g }, 0))
        all.forEach((g, i) => {
          const kept = (hit ? l1.get(`k${i}`) : l1.peek(`k${i}`)) as L1Entry
          expect({
            start: kept.start,
            createdAt: kept.createdAt,
            expiresAt: kept.expiresAt,
            staleUntil: kept.staleUntil,
            version: kept.version,
            validity: kept.validity,
            failure: kept.failure,
          }).toEqual(g)
        })
      }),
      { numRuns: 300 },
    )
  })

  it('a new validity leaves the failure and the eviction bit as they were', () => {
    const l1 = new L1({ maxEntries: 2, maxBytes: undefined })
    l1.set('a', { ...entry('a'), failure: true }, 0)
    l1.set('b', entry('b'), 0)
    const a = l1.get('a') as L1Entry // visited: the hand spares it once
    a.validity = Validity.Soft
    expect([a.validity, a.failure]).toEqual([Validity.Soft, true])
    a.validity = Validity.Valid
    expect([a.validity, a.failure]).toEqual([Validity.Valid, true])
    l1.set('c', entry('c'), 0) // a's bit is cleared and b, unvisited, goes
    expect([...l1.entries()].map(([k]) => k).sort()).toEqual(['a', 'c'])
  })
})
