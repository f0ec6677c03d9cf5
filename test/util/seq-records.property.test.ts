import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { kthSmallest, SeqRecords } from '../../src/util/seq-records.js'

/** What a check decides for a tag as of `start`: 2 invalid, 1 stale, 0 valid. */
type Verdict = 0 | 1 | 2

function verdictOf(records: SeqRecords, tag: string, start: number): Verdict {
  const hard = records.hard(tag)
  if (hard === undefined) return start < records.floor ? 2 : 0
  if (hard > start) return 2
  return records.soft(tag) > start ? 1 : 0
}

/** Every raise ever made, unbounded: the truth the bounded records may only err above. */
class Truth {
  readonly hard = new Map<string, number>()
  readonly soft = new Map<string, number>()

  raise(tag: string, hard: number, soft: number): void {
    this.hard.set(tag, Math.max(this.hard.get(tag) ?? -Infinity, hard))
    this.soft.set(tag, Math.max(this.soft.get(tag) ?? -Infinity, soft))
  }

  verdict(tag: string, start: number): Verdict {
    if ((this.hard.get(tag) ?? -Infinity) > start) return 2
    return (this.soft.get(tag) ?? -Infinity) > start ? 1 : 0
  }
}

const SEQ0 = 1_765_000_000_000_000 // a microsecond-clock sequence, far past V8's small integers

/** A run of raises: mostly new steps in order (as a bus delivers them), some repeats and softs. */
const raises = fc.array(
  fc.record({
    tag: fc.integer({ min: 0, max: 60 }).map((n) => `t${n}`),
    step: fc.integer({ min: 0, max: 400 }),
    kind: fc.constantFrom('hard', 'soft', 'both'),
  }),
  { minLength: 1, maxLength: 400 },
)

describe('SeqRecords', () => {
  it('never judges a tag more valid than every raise made says, whatever it forgot', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), raises, (max, steps) => {
        const records = new SeqRecords(max, SEQ0)
        const truth = new Truth()
        for (const { tag, step, kind } of steps) {
          const seq = SEQ0 + step
          const hard = kind === 'soft' ? -1 : seq
          const soft = kind === 'hard' ? -1 : seq
          records.raise(tag, hard, soft)
          truth.raise(tag, hard, soft)
          expect(records.size).toBeLessThanOrEqual(max)
        }
        const tooValid: string[] = []
        for (let n = 0; n <= 60; n++) {
          for (let step = -1; step <= 401; step += 3) {
            const start = SEQ0 + step
            if (verdictOf(records, `t${n}`, start) < truth.verdict(`t${n}`, start)) {
              tooValid.push(`t${n} as of +${step}`)
            }
          }
        }
        expect(tooValid).toEqual([])
      }),
      { numRuns: 500 },
    )
  })

  it('is exact while nothing was forgotten', () => {
    fc.assert(
      fc.property(raises, (steps) => {
        const records = new SeqRecords(1_000, SEQ0)
        const truth = new Truth()
        for (const { tag, step, kind } of steps) {
          const seq = SEQ0 + step
          records.raise(tag, kind === 'soft' ? -1 : seq, kind === 'hard' ? -1 : seq)
          truth.raise(tag, kind === 'soft' ? -1 : seq, kind === 'hard' ? -1 : seq)
        }
        expect(records.floor).toBe(SEQ0)
        const wrong: string[] = []
        for (const tag of truth.hard.keys()) {
          for (let step = 0; step <= 401; step++) {
            if (verdictOf(records, tag, SEQ0 + step) !== truth.verdict(tag, SEQ0 + step)) {
              wrong.push(`${tag} as of +${step}`)
            }
          }
        }
        expect(wrong).toEqual([])
      }),
      { numRuns: 200 },
    )
  })

  it('forgets the lowest tenth past its bound and raises the floor to what it forgot', () => {
    const records = new SeqRecords(100, SEQ0)
    for (let n = 1; n <= 101; n++) records.raise(`t${n}`, SEQ0 + n, -1)
    expect(records.size).toBe(90)
    expect(records.floor).toBe(SEQ0 + 11)
    expect(records.hard('t11')).toBeUndefined()
    expect(records.hard('t12')).toBe(SEQ0 + 12)
  })

  it('keeps a record read from the store below the floor as it is', () => {
    const records = new SeqRecords(10, SEQ0)
    records.raise('old', SEQ0 - 5, SEQ0 - 2, true)
    expect(records.hard('old')).toBe(SEQ0 - 5)
    expect(records.soft('old')).toBe(SEQ0 - 2)
    records.raise('new', SEQ0 - 5, -1)
    expect(records.hard('new')).toBe(SEQ0)
  })
})

describe('kthSmallest', () => {
  it('finds what sorting would', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: -5, max: 5 }), fc.double({ noNaN: true })), {
          minLength: 1,
          maxLength: 300,
        }),
        fc.nat(),
        (values, pick) => {
          const k = pick % values.length
          const sorted = Float64Array.from(values).sort()
          // `===`: -0 and 0 are the same threshold.
          expect(kthSmallest(Float64Array.from(values), k) === sorted[k]).toBe(true)
        },
      ),
      { numRuns: 1_000 },
    )
  })
})
