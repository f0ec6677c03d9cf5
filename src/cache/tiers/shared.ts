import { CacheError, isCacheError } from '../../errors.js'
import { MAX_READ_ITEMS, parts } from '../../stores/batch-limits.js'
import type { Store, StoreProvenRead, StoreReadResult, TagSeq } from '../../stores/store.js'
import type { FleetSync } from '../model/fleet-sync.js'
import type { Sequence } from '../model/sequence.js'
import { type TagRegistry, Validity } from '../model/tag-registry.js'
import type { Serializer } from '../serializer.js'
import { type DecodedEntry, decodeEntry } from './entry-codec.js'
import { PartBudget } from './part-budget.js'
import { judgeProven } from './proven-judge.js'
import type { StoreAccess } from './store-access.js'
import type { CircuitState, StoreOperation } from './store-guard.js'

/** A shared-tier entry, decoded and judged against the tag records as its part arrived. */
export type SharedEntry = DecodedEntry

/** Answer of {@link SharedTier.read}: one slot per key, and the sequence a load is as of. */
export interface SharedRead {
  entries: (SharedEntry | undefined)[]
  /** The earliest part's sequence: an invalidation recorded between two parts voids a load. */
  seq: number
  epoch: string
}

/** What the shared tier needs from the rest of the engine. */
export interface SharedTierDeps {
  readonly registry: TagRegistry
  readonly sequence: Sequence
  /** The bus's view, when there is one (created after the tier). */
  sync(): FleetSync | undefined
  readonly serializer: Serializer
  /** `strict`: a failed read throws instead of reading as a miss. */
  readonly strict: boolean
  /** Counts and reports a failed store call. */
  failed(error: unknown, operation: string): void
  reportError(error: unknown, operation: string, key?: string): void
}

/**
 * The shared tier (L2) as the engine uses it: every call within its time limits and the circuit
 * breaker ({@link StoreAccess}), big batches in parts (`batch-limits.ts`, `part-budget.ts`), and
 * every entry read decoded and judged as soon as its part arrives — before a later part's tag
 * records can push the ones it was read with out of the registry (`maxTags`).
 */
export class SharedTier {
  readonly store: Store
  readonly #access: StoreAccess
  readonly #deps: SharedTierDeps

  constructor(store: Store, access: StoreAccess, deps: SharedTierDeps) {
    this.store = store
    this.#access = access
    this.#deps = deps
  }

  /** The circuit breaker's state. */
  get circuit(): CircuitState {
    return this.#access.circuit
  }

  /** Invalidations waiting to be replayed to the store. */
  get pending(): number {
    return this.#access.pending
  }

  /**
   * Reads `fullKeys`; undefined (reported, not thrown — unless `strict`) when the store cannot be
   * reached. A big read goes out in parts, one after the other, each within the read time limit;
   * should a part fail, the keys from there on are misses (their loaders answer).
   */
  read(fullKeys: readonly string[]): Promise<SharedRead | undefined> {
    // One key (every `get`) is one part: nothing to split.
    if (fullKeys.length !== 1) {
      const split = parts(fullKeys, (key) => key.length, MAX_READ_ITEMS)
      if (split.length > 1) return this.#readParts(fullKeys, split)
    }
    return this.#readPart(fullKeys, undefined, [], undefined)
  }

  async #readParts(
    fullKeys: readonly string[],
    split: readonly (readonly string[])[],
  ): Promise<SharedRead | undefined> {
    const budget = this.partBudget('read', split.length)
    let merged: SharedRead | undefined
    for (const part of split) {
      const read = await this.#readPart(part, budget.next(), merged?.entries ?? [], merged)
      if (read === undefined) break
      merged = read
    }
    if (merged === undefined) return undefined
    for (let i = merged.entries.length; i < fullKeys.length; i++) merged.entries.push(undefined)
    return merged
  }

  /**
   * Decodes and judges one part's entries now, with the records this part brought, and appends
   * them to `entries`. `unsure`: when given, the indexes of the only entries that need those
   * records (the others are proven, see {@link judgeProven}). A part read in another epoch than
   * the parts before it starts over: the store lost what those were read with, so their entries
   * are dropped.
   */
  #judgePart(
    keys: readonly string[],
    result: StoreReadResult,
    unsure: readonly number[] | undefined,
    entries: (SharedEntry | undefined)[],
    before?: SharedRead,
  ): SharedRead {
    if (before !== undefined && before.epoch !== result.epoch) entries.fill(undefined)
    const registry = this.#deps.registry
    // With `unsure` (ascending), the entries but those need no records from the store: proven
    // by it (no bus), or decided by this process's own records (unchecked, with a bus).
    let next = 0
    for (let i = 0; i < keys.length; i++) {
      const record = result.entries[i]
      // The store judged it invalid already and kept its payload to itself.
      if (record === undefined || record.payload === '') {
        entries.push(undefined)
        continue
      }
      let proven = false
      if (unsure !== undefined) {
        while (next < unsure.length && (unsure[next] as number) < i) next++
        proven = unsure[next] !== i
      }
      // Judged before it is decoded: an invalid entry's value is never read back.
      const validity = proven
        ? judgeProven(registry, record)
        : registry.checkRead(record.tags, record.start, record.tagStarts, result.tagSeqs)
      entries.push(this.#decode(keys[i] as string, record, validity))
    }
    const seq =
      before === undefined || before.epoch !== result.epoch
        ? result.seq
        : Math.min(before.seq, result.seq)
    return { entries, seq, epoch: result.epoch }
  }

  /** Decodes a record, reporting (not throwing) one that cannot be read back. */
  #decode(
    fullKey: string,
    record: NonNullable<StoreReadResult['entries'][number]>,
    validity: Validity,
  ): SharedEntry | undefined {
    try {
      return decodeEntry(this.#deps.serializer, record, validity !== Validity.Invalid, validity)
    } catch (error) {
      this.#deps.reportError(error, 'decode', fullKey)
      return undefined
    }
  }

  /**
   * Reads one part from the store, and judges it ({@link #judgePart}) into `entries`. With a
   * trusted bus that has delivered every step up to the store's current sequence, the entries are
   * fetched unchecked (one plain `MGET` on Redis, no script) and judged here; the few whose tags
   * this process cannot vouch for are fetched again with the store's check. Without one, the
   * store proves what it can from one cheap call (its watermark, see {@link Store.readProven}) and
   * checks only the rest. `timeoutMs`: the limit of each call when not the read limit itself.
   * One async step on the path of every shared-tier hit: the common answer needs no other.
   */
  async #readPart(
    keys: readonly string[],
    timeoutMs: number | undefined,
    entries: (SharedEntry | undefined)[],
    before: SharedRead | undefined,
  ): Promise<SharedRead | undefined> {
    const store = this.store
    const sync = this.#deps.sync()
    let result: StoreReadResult | undefined
    let unsure: readonly number[] | undefined
    if (sync?.trusted === true && store.readUnchecked !== undefined) {
      const readUnchecked = store.readUnchecked.bind(store)
      let fast: StoreReadResult | undefined
      try {
        fast = await this.call('read', () => readUnchecked(keys), timeoutMs)
      } catch (error) {
        return this.#readFailed(error)
      }
      if (fast !== undefined && sync.covers(fast.published ?? fast.seq, fast.epoch)) {
        this.#deps.sequence.observe(fast.seq, fast.epoch)
        unsure = this.#undecided(fast)
        result = unsure.length === 0 ? fast : await this.#fetchUnsure(keys, fast, unsure, timeoutMs)
      }
    } else if (store.readProven !== undefined) {
      const readProven = store.readProven.bind(store)
      let proven: StoreProvenRead | undefined
      try {
        proven = await this.call('read', () => readProven(keys), timeoutMs)
      } catch (error) {
        return this.#readFailed(error)
      }
      if (proven !== undefined) {
        this.#deps.sequence.observe(proven.seq, proven.epoch)
        if (proven.unsure.length > 0) this.#refuseKnown(proven)
        const complete =
          proven.unsure.length === 0 ? proven : await this.#fetchUnproven(keys, proven, timeoutMs)
        result = complete
        unsure = complete?.unsure
      }
    }
    if (result === undefined) {
      result = await this.#fetchChecked(keys, timeoutMs)
      unsure = undefined
    }
    return result === undefined ? undefined : this.#judgePart(keys, result, unsure, entries, before)
  }

  /**
   * Drops from a proven read's `unsure` entries those this process's own records refuse already
   * (a hard record above a tag's start: the first read after an invalidation this process heard
   * of): they are misses, whatever the store's records say, with no checked read to wait for.
   */
  #refuseKnown(proven: StoreProvenRead): void {
    const registry = this.#deps.registry
    const kept: number[] = []
    for (const i of proven.unsure) {
      const record = proven.entries[i]
      // Decided here (no tag forgotten below the floor): an invalid verdict is a real record's.
      if (
        record !== undefined &&
        registry.decides(record.tags, record.start, record.tagStarts) &&
        registry.check(record.tags, record.start, record.tagStarts) === Validity.Invalid
      ) {
        proven.entries[i] = undefined
      } else kept.push(i)
    }
    proven.unsure = kept
  }

  /**
   * Completes a proven read with the store's checked read of its unsure entries. Should the store
   * have lost its state in between (another epoch), the proven entries are dropped: the checked
   * read's epoch is the one to believe.
   */
  async #fetchUnproven(
    keys: readonly string[],
    proven: StoreProvenRead,
    timeoutMs?: number,
  ): Promise<StoreProvenRead | undefined> {
    const unsure = proven.unsure
    const checked = await this.#fetchChecked(
      unsure.map((i) => keys[i] as string),
      timeoutMs,
    )
    // Unreachable now: what cannot be vouched for is a miss.
    if (checked === undefined) {
      for (const i of unsure) proven.entries[i] = undefined
      return proven
    }
    const sameEpoch = checked.epoch === proven.epoch
    const entries = sameEpoch ? proven.entries : proven.entries.map(() => undefined)
    unsure.forEach((i, n) => (entries[i] = checked.entries[n]))
    const seq = sameEpoch ? Math.min(proven.seq, checked.seq) : checked.seq
    // The checked read's records are exact, for its entries (`unsure`); the others are proven.
    return { entries, tagSeqs: checked.tagSeqs, seq, epoch: checked.epoch, unsure }
  }

  async #fetchChecked(
    keys: readonly string[],
    timeoutMs?: number,
  ): Promise<StoreReadResult | undefined> {
    const store = this.store
    let result: StoreReadResult
    try {
      result = await this.call('read', () => store.read(keys), timeoutMs)
    } catch (error) {
      return this.#readFailed(error)
    }
    this.#deps.sequence.observe(result.seq, result.epoch)
    this.#deps.registry.learn(result.tagSeqs)
    return result
  }

  /** Indexes of the unchecked entries this process cannot judge by what it knows. */
  #undecided(fast: StoreReadResult): number[] {
    const registry = this.#deps.registry
    const unsure: number[] = []
    const entries = fast.entries
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]
      if (entry !== undefined && !registry.decides(entry.tags, entry.start, entry.tagStarts))
        unsure.push(i)
    }
    return unsure
  }

  /**
   * Fetches checked the unchecked entries at `unsure` into `fast` (whose entries are this
   * caller's own: the store's tick batch slices a merged read per caller); keeps the others.
   */
  async #fetchUnsure(
    keys: readonly string[],
    fast: StoreReadResult,
    unsure: readonly number[],
    timeoutMs?: number,
  ): Promise<StoreReadResult> {
    const checked = await this.#fetchChecked(
      unsure.map((i) => keys[i] as string),
      timeoutMs,
    )
    // Unreachable now: what cannot be vouched for is a miss.
    unsure.forEach((i, n) => (fast.entries[i] = checked?.entries[n]))
    if (checked === undefined) return fast
    const tagSeqs = { ...fast.tagSeqs }
    for (const tag in checked.tagSeqs) {
      const seqs = checked.tagSeqs[tag] as TagSeq
      const known = tagSeqs[tag]
      tagSeqs[tag] =
        known === undefined
          ? seqs
          : { hard: Math.max(known.hard, seqs.hard), soft: Math.max(known.soft, seqs.soft) }
    }
    return {
      entries: fast.entries,
      tagSeqs,
      seq: fast.seq,
      epoch: fast.epoch,
      published: fast.published,
    }
  }

  /** A failed store read: counted and reported, and thrown only when strict; else a miss. */
  #readFailed(error: unknown): undefined {
    this.#deps.failed(error, 'store:read')
    if (this.#deps.strict) {
      throw isCacheError(error)
        ? error
        : new CacheError('E_STORE', 'cachegraph: the shared store failed', { cause: error })
    }
    return undefined
  }

  /**
   * A store call through {@link StoreAccess}; failures are thrown. `timeoutMs`: its limit when not
   * the operation's own (a part of a big batch, see {@link partBudget}).
   */
  call<T>(operation: StoreOperation, call: () => Promise<T>, timeoutMs?: number): Promise<T> {
    return this.#access.call(operation, call, timeoutMs)
  }

  /** A store call whose failure is counted, reported and turned into undefined. */
  async guard<T>(
    operation: StoreOperation,
    call: () => Promise<T>,
    timeoutMs?: number,
  ): Promise<T | undefined> {
    try {
      return await this.call(operation, call, timeoutMs)
    } catch (error) {
      this.#deps.failed(error, `store:${operation}`)
      return undefined
    }
  }

  /** A call that skips the replay queue (the sequence's own check of the store's state). */
  direct<T>(operation: StoreOperation, call: () => Promise<T>): Promise<T> {
    return this.#access.direct(operation, call)
  }

  /** Queues tags the store did not record for replay; true when the queue overflowed. */
  queue(tags: readonly string[], stale: boolean): boolean {
    return this.#access.queue(tags, stale)
  }

  /** The time limits of the `parts` parts of a big batch of `operation` (`part-budget.ts`). */
  partBudget(operation: StoreOperation, parts: number): PartBudget {
    return new PartBudget(this.#access.timeout(operation), parts)
  }
}
