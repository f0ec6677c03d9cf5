import type { Store, StoreReadResult } from '../stores/store.js'

/** The subset of a test runner the suite needs (Vitest, Jest, node:test + an expect library). */
export interface ConformanceRunner {
  describe: (name: string, body: () => void) => void
  it: (name: string, body: () => Promise<void> | void) => void
  expect: (actual: unknown) => {
    toBe(expected: unknown): void
    toEqual(expected: unknown): void
    toBeUndefined(): void
    toBeGreaterThan(expected: number): void
    toBeGreaterThanOrEqual(expected: number): void
    not: { toBe(expected: unknown): void }
  }
}

/** How the suite gets stores. */
export interface ConformanceTarget {
  /** A fresh store, isolated from other tests (e.g. its own key prefix). */
  create: () => Promise<Store> | Store
  /**
   * Makes the store lose its state (FLUSHDB, restart). Optional: the recovery tests run only
   * when it is given.
   */
  loseState?: (store: Store) => Promise<void> | void
  /**
   * Makes the store lose its tag records alone, while its sequence and epoch survive (an
   * eviction or a `DEL` of the records' key). Optional: the lost-records tests run only when it
   * is given.
   */
  loseRecords?: (store: Store) => Promise<void> | void
  /**
   * Takes a copy of the tag records as they are now; the returned function puts that older
   * copy back while the sequence stays where it is then (a partial restore from a backup).
   * Optional, like {@link ConformanceTarget.loseRecords}.
   */
  copyRecords?: (store: Store) => Promise<() => Promise<void>>
  /** Waits real or fake time, for ttl tests. @default a real timer */
  sleep?: (ms: number) => Promise<void>
}

let unique = 0
const key = (name: string) => `conf::${name}:${++unique}`
const entry = (k: string, tags: string[], start?: number, ttlMs = 60_000) => ({
  key: k,
  payload: `payload of ${k}`,
  tags,
  ...(start === undefined ? {} : { start }),
  ttlMs,
})

/** Whether entry `i` of a read is absent or invalidated by the records the read reported. */
function invalidIn(read: StoreReadResult, i: number): boolean {
  const found = read.entries[i]
  if (found === undefined) return true
  return found.tags.some((tag, j) => {
    const hard = read.tagSeqs[tag]?.hard ?? Infinity
    return hard > (found.tagStarts?.[j] ?? found.start)
  })
}

/**
 * The contract every cachegraph store must meet. Runner agnostic: pass your runner's
 * `describe`, `it` and `expect`.
 *
 * @example
 * import { describe, it, expect } from 'vitest'
 * import { storeConformance } from 'cachegraph/testing'
 * storeConformance('my store', { describe, it, expect }, { create: () => myStore() })
 */
export function storeConformance(
  name: string,
  runner: ConformanceRunner,
  target: ConformanceTarget,
): void {
  const { describe, it, expect } = runner
  const sleep =
    target.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)))
  const withStore = (body: (store: Store) => Promise<void>) => async () => {
    const store = await target.create()
    try {
      await body(store)
    } finally {
      await store.close()
    }
  }

  describe(`store conformance: ${name}`, () => {
    it(
      'reads nothing for unknown keys and reports seq and epoch',
      withStore(async (store) => {
        const result = await store.read([key('a'), key('b')])
        expect(result.entries.length).toBe(2)
        expect(result.entries[0]).toBeUndefined()
        expect(result.entries[1]).toBeUndefined()
        expect(typeof result.seq).toBe('number')
        expect(typeof result.epoch).toBe('string')
        expect((await store.read([])).epoch).toBe(result.epoch)
      }),
    )

    it(
      'writes and reads back payload, tags and start',
      withStore(async (store) => {
        const k = key('rw')
        const { seq } = await store.read([])
        const written = await store.write([entry(k, ['t1', 't2'], seq)])
        expect(written.written).toEqual([true])
        expect(written.starts).toEqual([seq])
        const { entries, tagSeqs } = await store.read([k])
        expect(entries[0]?.payload).toBe(`payload of ${k}`)
        expect(entries[0]?.tags).toEqual(['t1', 't2'])
        expect(entries[0]?.start).toBe(seq)
        expect(Object.keys(tagSeqs).sort()).toEqual(['t1', 't2'])
      }),
    )

    it(
      'a write without start is as of the current sequence',
      withStore(async (store) => {
        await store.invalidate([key('bump')])
        const { seq } = await store.read([])
        const result = await store.write([entry(key('now'), ['t'])])
        expect(result.starts[0]).toBe(seq)
        const asOf = await store.write([entry(key('asof'), ['t'])], { asOf: seq - 1 })
        expect(asOf.starts[0]).toBe(seq - 1)
      }),
    )

    it(
      'invalidate takes the next sequence for all its tags, forward only',
      withStore(async (store) => {
        const tag = key('tag')
        const before = await store.read([])
        const first = await store.invalidate([tag, `${tag}:b`])
        const second = await store.invalidate([tag])
        expect(first.seq).toBeGreaterThan(before.seq)
        expect(second.seq).toBe(first.seq + 1)
        expect(first.epoch).toBe(before.epoch)
        const k = key('e')
        await store.write([entry(k, [tag, `${tag}:b`], second.seq)])
        const { tagSeqs, seq } = await store.read([k])
        expect(tagSeqs[tag]?.hard).toBe(second.seq)
        expect(tagSeqs[`${tag}:b`]?.hard).toBe(first.seq)
        expect(seq).toBe(second.seq)
      }),
    )

    it(
      'refuses an entry whose tag was invalidated after its start (the stale set)',
      withStore(async (store) => {
        const tag = key('stale-set')
        const { seq: start } = await store.read([])
        await store.invalidate([tag])
        const k = key('late')
        const result = await store.write([
          entry(k, [tag], start),
          entry(key('other'), ['unrelated'], start),
        ])
        expect(result.written).toEqual([false, true])
        expect((await store.read([k])).entries[0]).toBeUndefined()
      }),
    )

    it(
      'keeps soft and hard records apart; a soft record does not refuse writes',
      withStore(async (store) => {
        const tag = key('soft')
        const { seq: start } = await store.read([])
        const soft = await store.invalidate([tag], { stale: true })
        const k = key('soft-entry')
        expect((await store.write([entry(k, [tag], start)])).written).toEqual([true])
        const { tagSeqs } = await store.read([k])
        expect(tagSeqs[tag]?.soft).toBe(soft.seq)
        expect(tagSeqs[tag]?.hard ?? 0).toBeGreaterThan(-1)
        expect((tagSeqs[tag]?.hard ?? 0) < soft.seq).toBe(true)
      }),
    )

    it(
      'never lets an older snapshot overwrite a newer live entry',
      withStore(async (store) => {
        const k = key('order')
        const { seq } = await store.read([])
        await store.invalidate([key('x')])
        expect(
          (await store.write([{ ...entry(k, ['t'], seq + 1), payload: 'new' }])).written,
        ).toEqual([true])
        expect((await store.write([{ ...entry(k, ['t'], seq), payload: 'old' }])).written).toEqual([
          false,
        ])
        expect((await store.read([k])).entries[0]?.payload).toBe('new')
      }),
    )

    it(
      'reports untouched tags at or below the current sequence',
      withStore(async (store) => {
        const k = key('fresh-tags')
        const { seq } = await store.read([])
        await store.write([entry(k, [key('never')], seq)])
        const result = await store.read([k])
        const record = Object.values(result.tagSeqs)[0]
        expect((record?.hard ?? Infinity) <= seq).toBe(true)
      }),
    )

    it(
      'expires entries after ttlMs',
      withStore(async (store) => {
        const k = key('ttl')
        await store.write([entry(k, ['t'], undefined, 40)])
        expect((await store.read([k])).entries[0]?.payload).toBe(`payload of ${k}`)
        await sleep(120)
        expect((await store.read([k])).entries[0]).toBeUndefined()
      }),
    )

    it(
      'scan lists matching keys page by page with their ttl (when the store can scan)',
      withStore(async (store) => {
        if (store.scan === undefined) return
        const group = key('scan')
        const written = Array.from({ length: 30 }, (_, i) => entry(`${group}:${i}`, ['t']))
        await store.write([...written, entry(`${key('other')}:x`, ['t'])])
        const found = new Set<string>()
        let cursor = '0'
        let pages = 0
        do {
          const page = await store.scan({ match: `${group}:*`, cursor, count: 7 })
          for (const { key: k, ttlMs } of page.keys) {
            expect(ttlMs).toBeGreaterThan(0)
            found.add(k)
          }
          cursor = page.cursor
          pages++
        } while (cursor !== '0' && pages < 1_000_000)
        expect([...found].sort()).toEqual(written.map((e) => e.key).sort())
      }),
    )

    it(
      'an unchecked read returns entries as stored, with the current seq and epoch',
      withStore(async (store) => {
        if (store.readUnchecked === undefined) return
        const tag = key('unchecked')
        const [a, b] = [key('ua'), key('ub')]
        const { seq } = await store.read([])
        await store.write([entry(a, [tag, 'other'], seq), entry(b, [tag], seq)])
        await store.invalidate([tag])
        const checked = await store.read([a, key('none')])
        const unchecked = await store.readUnchecked([a, key('none'), b])
        expect(unchecked === undefined).toBe(false)
        expect(unchecked?.seq).toBe(checked.seq)
        expect(unchecked?.epoch).toBe(checked.epoch)
        // Invalidated, but an unchecked read hands it over whole; judging it is the reader's job.
        expect(unchecked?.entries[0]?.payload).toBe(`payload of ${a}`)
        expect(unchecked?.entries[0]?.tags).toEqual([tag, 'other'])
        expect(unchecked?.entries[0]?.start).toBe(seq)
        expect(unchecked?.entries[1]).toBeUndefined()
        expect(unchecked?.entries[2]?.payload).toBe(`payload of ${b}`)
        expect(Object.keys(unchecked?.tagSeqs ?? { x: 1 }).length).toBe(0)
      }),
    )

    it(
      'leases: one holder at a time, released only by it, ended by their ttl',
      withStore(async (store) => {
        if (store.acquireLease === undefined || store.releaseLease === undefined) return
        const k = key('lease')
        expect(await store.acquireLease(k, 'a', 60_000)).toBe(true)
        expect(await store.acquireLease(k, 'b', 60_000)).toBe(false)
        expect(await store.acquireLease(k, 'a', 60_000)).toBe(true) // still a's
        await store.releaseLease(k, 'b') // not b's to end
        expect(await store.acquireLease(k, 'b', 60_000)).toBe(false)
        await store.releaseLease(k, 'a')
        expect(await store.acquireLease(k, 'b', 50)).toBe(true)
        await sleep(120)
        expect(await store.acquireLease(k, 'c', 60_000)).toBe(true)
      }),
    )

    if (target.loseRecords !== undefined) {
      const loseRecords = target.loseRecords
      it(
        'an invalidated entry stays invalid when the tag records vanish, and the epoch changes',
        withStore(async (store) => {
          const tag = key('evicted')
          const k = key('evicted-entry')
          const { seq } = await store.read([])
          expect((await store.write([entry(k, [tag, 'other'], seq)])).written).toEqual([true])
          const before = await store.invalidate([tag])
          await loseRecords(store)
          const after = await store.read([k])
          expect(invalidIn(after, 0)).toBe(true)
          expect(after.epoch).not.toBe(before.epoch)
          expect(after.seq).toBeGreaterThan(before.seq)
          // A load that started before the loss must not store what the lost record guarded.
          expect((await store.write([entry(k, [tag], seq)])).written).toEqual([false])
        }),
      )
    }

    if (target.copyRecords !== undefined) {
      const copyRecords = target.copyRecords
      it(
        'an older copy of the tag records put back is detected, not trusted',
        withStore(async (store) => {
          const tag = key('restored')
          const k = key('restored-entry')
          const { seq } = await store.read([])
          await store.write([entry(k, [tag], seq)])
          const restore = await copyRecords(store)
          const invalidated = await store.invalidate([tag])
          await store.invalidate([key('later')], { stale: true })
          await restore()
          const after = await store.read([k])
          expect(invalidIn(after, 0)).toBe(true)
          expect(after.epoch).not.toBe(invalidated.epoch)
        }),
      )
    }

    if (target.loseState !== undefined) {
      const loseState = target.loseState
      it(
        'after losing its state it changes epoch, moves forward, and refuses older writes',
        withStore(async (store) => {
          const tag = key('lost')
          const k = key('lost-entry')
          const before = await store.read([])
          await store.invalidate([tag])
          await loseState(store)
          const after = await store.read([])
          expect(after.epoch).not.toBe(before.epoch)
          expect(after.seq).toBeGreaterThan(before.seq)
          // A loader that started before the loss must not store what the lost record guarded.
          expect((await store.write([entry(k, [tag], before.seq)])).written).toEqual([false])
          expect((await store.write([entry(k, [tag], after.seq)])).written).toEqual([true])
        }),
      )

      it(
        'an unchecked read of a store that lost its state answers undefined until it has one',
        withStore(async (store) => {
          if (store.readUnchecked === undefined) return
          await store.invalidate([key('before-loss')])
          await loseState(store)
          expect(await store.readUnchecked([key('k')])).toBeUndefined()
          const { seq, epoch } = await store.read([])
          const again = await store.readUnchecked([key('k')])
          expect(again?.seq).toBe(seq)
          expect(again?.epoch).toBe(epoch)
        }),
      )
    }
  })
}
