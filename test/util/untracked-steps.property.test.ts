import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { TagRegistry, Validity } from '../../src/cache/model/tag-registry.js'
import { NameCounts } from '../../src/util/name-counts.js'
import { SeqSketch } from '../../src/util/seq-sketch.js'

/** Few names (over fewer buckets in the sketch: every run has collisions). */
const name = fc.integer({ min: 0, max: 40 }).map((n) => `@key:cg::k${n}`)

describe('NameCounts', () => {
  it('has exactly the names added more often than removed (500 runs)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(name, fc.boolean()), { maxLength: 200 }), (ops) => {
        const counts = new NameCounts()
        const present = new Map<string, number>()
        for (const [n, add] of ops) {
          const count = present.get(n) ?? 0
          if (add) {
            counts.add(n)
            present.set(n, count + 1)
          } else if (count > 0) {
            // Removes only undo earlier adds, as the L1's do.
            counts.remove(n)
            present.set(n, count - 1)
          }
          for (const [p, c] of present) expect(counts.has(p)).toBe(c > 0)
        }
        counts.clear()
        for (const p of present.keys()) expect(counts.has(p)).toBe(false)
      }),
      { numRuns: 500 },
    )
  })
})

describe('SeqSketch', () => {
  it('answers at least the highest sequence raised for a name (500 runs, 8 buckets)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(name, fc.integer()), { maxLength: 200 }), (raises) => {
        const sketch = new SeqSketch(8)
        const truth = new Map<string, number>()
        for (const [n, seq] of raises) {
          sketch.raise(n, seq)
          truth.set(n, Math.max(truth.get(n) ?? -Infinity, seq))
        }
        for (const [n, seq] of truth) expect(sketch.get(n)).toBeGreaterThanOrEqual(seq)
        sketch.reset()
        expect(sketch.empty).toBe(true)
        expect(sketch.get('@key:cg::k1')).toBe(-Infinity)
      }),
      { numRuns: 500 },
    )
  })
})

const SEQ0 = 1_765_000_000_000_000

describe('TagRegistry with steps it does not record', () => {
  /** Steps heard from the fleet, each on a key tag held in L1 or not, or on a user tag. */
  const steps = fc.array(
    fc.record({
      tag: fc.oneof(
        name,
        fc.integer({ min: 0, max: 10 }).map((n) => `t${n}`),
      ),
      step: fc.integer({ min: 0, max: 300 }),
      held: fc.boolean(),
      stale: fc.boolean(),
    }),
    { maxLength: 150 },
  )
  const entries = fc.array(
    fc.record({
      tags: fc.array(fc.oneof(name, fc.constantFrom('t1', 't2')), { minLength: 1, maxLength: 4 }),
      step: fc.integer({ min: 0, max: 300 }),
    }),
    { minLength: 1, maxLength: 20 },
  )

  it('what is not in the L1 is never judged valid past a hard step on its tags (500 runs)', () => {
    fc.assert(
      fc.property(steps, entries, fc.integer({ min: 4, max: 64 }), (heard, judged, maxTags) => {
        const registry = new TagRegistry(maxTags)
        const truth = new Map<string, number>()
        for (const { tag, step, held, stale } of heard) {
          registry.apply([tag], SEQ0 + step, stale, () => held)
          if (!stale) truth.set(tag, Math.max(truth.get(tag) ?? -Infinity, SEQ0 + step))
        }
        for (const { tags, step } of judged) {
          const start = SEQ0 + step
          const invalid = tags.some((t) => (truth.get(t) ?? -Infinity) > start)
          if (!invalid) continue
          expect(registry.checkNew(tags, start)).toBe(Validity.Invalid)
          // What callers do with an entry read from the store: decided here, then checked.
          const decidedValid =
            registry.decides(tags, start) && registry.check(tags, start) !== Validity.Invalid
          expect(decidedValid).toBe(false)
        }
      }),
      { numRuns: 500 },
    )
  })

  it('a step not recorded moves the revision, not the generation; one recorded moves both', () => {
    const registry = new TagRegistry(100)
    const before = { generation: registry.generation, revision: registry.revision }
    registry.apply(['@key:cg::a'], SEQ0 + 1, false, () => false)
    expect(registry.size).toBe(0)
    expect([registry.generation, registry.revision]).toEqual([
      before.generation,
      before.revision + 1,
    ])
    registry.apply(['@key:cg::a'], SEQ0 + 2, false, () => true)
    expect(registry.size).toBe(1)
    expect([registry.generation, registry.revision]).toEqual([
      before.generation + 1,
      before.revision + 2,
    ])
    // Soft steps and user tags are always recorded.
    registry.apply(['@key:cg::b', 'user:1'], SEQ0 + 3, true, () => false)
    registry.apply(['user:2'], SEQ0 + 4, false, () => false)
    expect(registry.size).toBe(4)
  })
})
