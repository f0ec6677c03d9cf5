import { randomUUID } from 'node:crypto'

import type { Clock } from '../clock.js'
import { systemClock } from '../clock.js'
import type {
  Store,
  StoreEntry,
  StoreInvalidateResult,
  StoreReadResult,
  StoreScanOptions,
  StoreScanPage,
  StoreWriteOptions,
  StoreWriteResult,
  StoredRecord,
  TagSeq,
  StoreInvalidateOptions,
} from './store.js'
import { globToRegExp } from '../util/glob.js'
import { SeqRecords } from '../util/seq-records.js'

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most entries kept; past it the least recently written go first.
   * @default 100_000
   */
  maxEntries?: number
  /**
   * Most tag records kept. Dropping the oldest raises the floor instead of forgetting it, so an
   * entry older than a forgotten record is treated as invalid, never as valid.
   * @default 100_000
   */
  maxTags?: number
  /** Time source for entry expiry. @default the wall clock */
  clock?: Clock
}

interface Slot {
  record: StoredRecord
  expiresAt: number
  /** When it came in (a rewrite comes in again): map order, for stable `scan` cursors. */
  order: number
}

/**
 * An in-process shared tier. It behaves like the Redis store (serialized payloads, its own
 * sequence and epoch), so several caches can share one to stand for several processes, and the
 * invalidation service can run on it without Redis.
 */
export class MemoryStore implements Store {
  readonly name = 'memory'
  readonly #entries = new Map<string, Slot>()
  #inserted = 0
  readonly #tags: SeqRecords
  readonly #maxEntries: number
  readonly #clock: Clock
  #seq: number
  #epoch: string
  readonly #leases = new Map<string, { token: string; until: number }>()

  constructor(options: MemoryStoreOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 100_000
    this.#clock = options.clock ?? systemClock
    // Seeded from the clock in microseconds, like the Redis store seeds from TIME: a store that
    // lost its state starts above every sequence it handed out before.
    this.#seq = Math.floor(this.#clock.now() * 1000)
    this.#tags = new SeqRecords(options.maxTags ?? 100_000, this.#seq)
    this.#epoch = randomUUID()
  }

  read(keys: readonly string[]): Promise<StoreReadResult> {
    const now = this.#clock.now()
    const tagSeqs: Record<string, TagSeq> = {}
    const entries = keys.map((key) => {
      const slot = this.#entries.get(key)
      if (slot === undefined) return undefined
      if (slot.expiresAt <= now) {
        this.#entries.delete(key)
        return undefined
      }
      for (const tag of slot.record.tags) tagSeqs[tag] = this.#tagSeq(tag)
      return slot.record
    })
    return Promise.resolve({ entries, tagSeqs, seq: this.#seq, epoch: this.#epoch })
  }

  write(
    entries: readonly StoreEntry[],
    options: StoreWriteOptions = {},
  ): Promise<StoreWriteResult> {
    const now = this.#clock.now()
    const written: boolean[] = []
    const starts: number[] = []
    const superseding = entries.flatMap((e) =>
      e.start === undefined && options.asOf === undefined && e.keyTag !== undefined
        ? [e.keyTag]
        : [],
    )
    // One fresh sequence for every superseding entry of this write; the rest are "as of now".
    const asOfNow = superseding.length > 0 ? this.#record(superseding, false) : this.#seq
    for (const entry of entries) {
      const start = entry.start ?? options.asOf ?? asOfNow
      const current = this.#entries.get(entry.key)
      // An older snapshot never overwrites a newer live one (a slow loader racing a set).
      const newer = current !== undefined && current.expiresAt > now && current.record.start > start
      const ok = !newer && this.#isValid(entry.tags, start, entry.tagStarts)
      if (ok) {
        this.#entries.delete(entry.key)
        const record: StoredRecord = { payload: entry.payload, tags: entry.tags, start }
        if (entry.tagStarts !== undefined) record.tagStarts = entry.tagStarts
        this.#entries.set(entry.key, {
          record,
          expiresAt: now + entry.ttlMs,
          order: ++this.#inserted,
        })
        this.#evictEntries()
      }
      written.push(ok)
      starts.push(start)
    }
    return Promise.resolve({ written, starts, seq: this.#seq, epoch: this.#epoch })
  }

  invalidate(
    tags: readonly string[],
    options: StoreInvalidateOptions = {},
  ): Promise<StoreInvalidateResult> {
    const seq = this.#record(tags, options.stale === true)
    return Promise.resolve({ seq, epoch: this.#epoch })
  }

  /** Takes the next sequence and records it for `tags`. */
  #record(tags: readonly string[], stale: boolean): number {
    const seq = ++this.#seq
    for (const tag of tags) this.#tags.raise(tag, stale ? -1 : seq, stale ? seq : -1)
    return seq
  }

  /**
   * Forgets everything, as a Redis restart without persistence or a FLUSHDB would: new epoch, the
   * sequence moves forward, the floor rises to it. For tests of the recovery rules.
   */
  reset(): void {
    this.#entries.clear()
    this.#seq = Math.max(this.#seq + 1, Math.floor(this.#clock.now() * 1000))
    this.#tags.reset(this.#seq)
    this.#epoch = randomUUID()
  }

  scan(options: StoreScanOptions): Promise<StoreScanPage> {
    const pattern = globToRegExp(options.match)
    const count = options.count ?? 100
    const now = this.#clock.now()
    // The cursor is the `order` of the last entry looked at, not a position: entries deleted
    // between pages cannot shift it (a rewritten entry comes in again, later: seen again, never
    // skipped). Map order is insertion order, so orders only grow along it. A page is `count`
    // entries looked at, without copying the map.
    const after = Number(options.cursor ?? '0') || 0
    const keys: { key: string; ttlMs: number }[] = []
    let looked = 0
    let last = after
    for (const [key, slot] of this.#entries) {
      if (slot.order <= after) continue
      if (looked === count) return Promise.resolve({ keys, cursor: String(last) })
      looked++
      last = slot.order
      if (slot.expiresAt > now && pattern.test(key)) keys.push({ key, ttlMs: slot.expiresAt - now })
    }
    return Promise.resolve({ keys, cursor: '0' })
  }

  acquireLease(key: string, token: string, ttlMs: number): Promise<boolean> {
    const now = this.#clock.now()
    const lease = this.#leases.get(key)
    if (lease !== undefined && lease.until > now && lease.token !== token) {
      return Promise.resolve(false)
    }
    this.#leases.set(key, { token, until: now + ttlMs })
    return Promise.resolve(true)
  }

  releaseLease(key: string, token: string): Promise<void> {
    if (this.#leases.get(key)?.token === token) this.#leases.delete(key)
    return Promise.resolve()
  }

  /** Entry count, for tests and stats. */
  get size(): number {
    return this.#entries.size
  }

  close(): Promise<void> {
    return Promise.resolve()
  }

  #tagSeq(tag: string): TagSeq {
    const record = this.#tags.get(tag)
    const floor = this.#tags.floor
    return record ? { hard: record.hard, soft: record.soft } : { hard: floor, soft: floor }
  }

  #isValid(
    tags: readonly string[],
    start: number,
    tagStarts: readonly number[] | undefined,
  ): boolean {
    for (let i = 0; i < tags.length; i++) {
      const tagStart = tagStarts?.[i] ?? start
      const hard = this.#tags.hard(tags[i] as string)
      if (hard === undefined ? tagStart < this.#tags.floor : hard > tagStart) return false
    }
    return true
  }

  #evictEntries(): void {
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string
      this.#entries.delete(oldest)
    }
  }
}

/** Creates an in-process shared tier. See {@link MemoryStore}. */
export function memoryStore(options?: MemoryStoreOptions): MemoryStore {
  return new MemoryStore(options)
}
