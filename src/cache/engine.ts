import { CacheError } from '../errors.js'
import { checkName, inTurn, MAX_READ_ITEMS, parts } from '../stores/batch-limits.js'
import { mergeReads } from '../stores/redis-reply.js'
import type { Store, StoreReadResult } from '../stores/store.js'
import type { InvalidationResult } from '../types/options.js'
import { CachedFailure, type DecodedEntry, decodeEntry, type EntryMeta } from './tiers/entry-codec.js'
import { type CacheEvents, Emitter } from './events.js'
import { FleetSync } from './model/fleet-sync.js'
import { PartBudget } from './tiers/part-budget.js'
import { readShared } from './tiers/shared-read.js'
import { StoreAccess } from './tiers/store-access.js'
import type { CircuitState, StoreOperation } from './tiers/store-guard.js'
import { L1, type L1Entry } from './tiers/l1.js'
import type { ResolvedOptions } from './options.js'
import { estimateSize } from './tiers/size.js'
import { Counters } from './stats.js'
import { TagRegistry, Validity } from './model/tag-registry.js'
import { channels, traced } from './tracing.js'
import { IMPLICIT, type PendingWrite } from './model/namespace.js'

// Keys, namespaces and pending writes live in keys.ts; re-exported for the engine's users.
export { IMPLICIT, keyTag, l1KeyOf } from './model/namespace.js'
export type { Namespace, PendingWrite } from './model/namespace.js'

/**
 * The state a cache and all its namespaces share: tiers, tag registry, counters, events, and the
 * sequence/epoch bookkeeping of the invalidation model (docs/invalidation.md).
 */
export class Engine {
  readonly options: ResolvedOptions
  readonly registry: TagRegistry
  readonly l1: L1 | undefined
  readonly store: Store | undefined
  readonly counters = new Counters()
  readonly events = new Emitter()
  /** `options.enabled` and `options.clock`, kept at hand for the hit path. */
  readonly enabled: boolean
  readonly clock: ResolvedOptions['clock']
  /** L1-only caches number their own invalidations. Seeded from the clock like the stores. */
  #localSeq: number
  #epoch: string | undefined
  #highestSeq = 0
  #closed = false
  readonly #sizeOf: ((value: unknown) => number) | undefined
  /** `l1.clone`: hand out and keep copies. */
  readonly clone: boolean
  /** With a bus: what this process knows of the fleet's invalidations, and whether that is all. */
  readonly sync: FleetSync | undefined
  /** Time limits, circuit breaker and replay queue of shared-tier calls. */
  readonly #access: StoreAccess | undefined

  constructor(options: ResolvedOptions) {
    this.options = options
    this.enabled = options.enabled
    this.clock = options.clock
    this.registry = new TagRegistry(options.maxTags)
    this.l1 = options.l1 === false ? undefined : new L1(options.l1)
    this.store = options.store
    this.#localSeq = Math.floor(options.clock.now() * 1000)
    const l1 = options.l1 === false ? undefined : options.l1
    this.clone = l1?.clone === true
    const needsSizes = l1?.maxBytes !== undefined || options.maxEntryBytes !== undefined
    this.#sizeOf = l1?.sizeOf ?? (needsSizes ? estimateSize : undefined)
    this.#access =
      options.store === undefined
        ? undefined
        : new StoreAccess(
            options.store,
            { ...options, rootTag: `${IMPLICIT}ns:${options.namespace}` },
            {
              circuit: (state, cause) => {
                if (this.events.has('store:circuit'))
                  this.events.emit('store:circuit', { state, cause })
              },
              replayed: (tags, seq, epoch, stale) => {
                this.observe(seq, epoch)
                this.applyOwn(tags, seq, stale)
              },
            },
          )
    this.sync =
      options.bus === undefined || options.store === undefined
        ? undefined
        : new FleetSync(this, options.bus, options.store)
  }

  /** The store epoch this process works in (undefined before the first store answer). */
  get epoch(): string | undefined {
    return this.#epoch
  }

  /** The highest store sequence this process has seen in `epoch`. */
  get highestSeq(): number {
    return this.#highestSeq
  }

  get closed(): boolean {
    return this.#closed
  }

  /** An L1 entry that is not invalidated (it may be expired or soft-stale: callers decide). */
  lookupL1(l1Key: string): L1Entry | undefined {
    const entry = this.l1?.get(l1Key)
    if (entry === undefined) return undefined
    // With a bus, every hit asks whether it still vouches (it may have been silent too long):
    // nothing is served from L1 before the first heartbeat, after a gap, or while distrusted.
    if (this.sync !== undefined && !this.sync.trusted) return undefined
    const generation = this.registry.generation
    if (entry.checkedAt !== generation) {
      // Something was invalidated since this entry was last checked: walk its tags once.
      entry.validity = this.registry.check(entry.tags, entry.start, entry.tagStarts)
      entry.checkedAt = generation
      if (entry.validity === Validity.Invalid) {
        this.l1?.delete(l1Key)
        return undefined
      }
    }
    return entry
  }

  /** Estimated size of a value in bytes (0 when nothing needs sizes). */
  sizeOf(value: unknown): number {
    return this.#sizeOf === undefined ? 0 : this.#sizeOf(value)
  }

  /** The value to hand out: a copy with `l1.clone`, else the stored reference. */
  handOut(value: unknown): unknown {
    return this.clone ? structuredClone(value) : value
  }

  /** Expiry times of an entry written now: jitter only shortens, `maxLifetime` caps. */
  meta(write: PendingWrite, now: number): EntryMeta {
    let ttl = Math.min(write.ttlMs, this.options.maxLifetimeMs)
    if (this.options.jitter > 0) ttl -= ttl * this.options.jitter * Math.random()
    const expiresAt = now + ttl
    const staleUntil = expiresAt + (write.graceMs ?? this.options.graceMs)
    return { createdAt: now, expiresAt, staleUntil, version: write.version }
  }

  /** Takes the next local sequence (caches without a store number their own invalidations). */
  nextLocalSeq(): number {
    return ++this.#localSeq
  }

  /** Puts a shared-tier entry into L1 with its original `start`. */
  fillL1(l1Key: string, entry: DecodedEntry, now: number): void {
    const l1 = this.l1
    if (l1 === undefined) return
    const validity = this.registry.check(entry.tags, entry.start, entry.tagStarts)
    if (validity === Validity.Invalid) return
    l1.set(
      l1Key,
      {
        ...entry,
        checkedAt: this.registry.generation,
        validity,
        size: this.sizeOf(entry.value),
        failure: entry.value instanceof CachedFailure,
      },
      now,
    )
  }

  /**
   * Reads from the shared tier; undefined (reported, not thrown) when it is unreachable. See
   * `shared-read.ts` for when entries are judged here and when by the store. A big read goes out
   * in parts (`batch-limits.ts`), one after the other, each within the read time limit; should a
   * part fail, the keys from there on are misses (their loaders answer).
   */
  async readStore(keys: readonly string[]): Promise<StoreReadResult | undefined> {
    const split = parts(keys, (key) => key.length, MAX_READ_ITEMS)
    if (split.length === 1) return readShared(this, keys)
    const results: StoreReadResult[] = []
    const budget = this.partBudget('read', split.length)
    let read = 0
    for (const part of split) {
      const result = await readShared(this, part, budget.next())
      if (result === undefined) break
      results.push(result)
      read += part.length
    }
    if (results.length === 0) return undefined
    const merged = mergeReads(results)
    for (let i = read; i < keys.length; i++) merged.entries.push(undefined)
    return merged
  }

  /** Decodes a shared-tier record, reporting (not throwing) one that cannot be read back. */
  decode(
    fullKey: string,
    record: NonNullable<StoreReadResult['entries'][number]>,
  ): DecodedEntry | undefined {
    // The store judged it invalid already and kept its payload to itself.
    if (record.payload === '') return undefined
    try {
      return decodeEntry(this.options.serializer, record)
    } catch (error) {
      this.reportError(error, 'decode', fullKey)
      return undefined
    }
  }

  /** The sequence a load or write starting now is "as of". */
  async begin(): Promise<number> {
    if (this.store === undefined) return this.#localSeq
    const result = await this.readStore([])
    // Unreachable store: an older token is always safe (it can only void more writes).
    return result?.seq ?? this.#highestSeq
  }

  /** The current sequence of an L1-only cache (undefined with a store: ask the store). */
  localSeq(): number | undefined {
    return this.store === undefined ? this.#localSeq : undefined
  }

  /**
   * Records an invalidation in the store (one call, whatever the number of dependents), then in
   * this process. A store failure still applies it here and rejects: it is never silent.
   */
  invalidate(tags: readonly string[], stale: boolean, ack = false): Promise<InvalidationResult> {
    return traced(channels.invalidate, { tags }, () => this.#invalidate(tags, stale, ack))
  }

  async #invalidate(
    tags: readonly string[],
    stale: boolean,
    ack: boolean,
  ): Promise<InvalidationResult> {
    this.#assertOpen()
    // Refused up front, before anything is applied anywhere.
    for (const tag of tags) checkName(tag, 'tag')
    let seq: number
    let epoch: string | undefined
    let applied = false
    if (this.store === undefined) {
      seq = ++this.#localSeq
    } else {
      // In parts, one after the other: each part is one step of the sequence, applied here as
      // soon as it is recorded; the invalidation resolves once every part is (docs/invalidation.md).
      const store = this.store
      const split = parts(tags, (tag) => tag.length)
      const budget = split.length > 1 ? this.partBudget('invalidate', split.length) : undefined
      seq = this.#highestSeq
      let done = 0
      try {
        await inTurn(split, async (part) => {
          const result = await this.callStore(
            'invalidate',
            () => store.invalidate(part, { stale }),
            budget?.next(),
          )
          this.observe(result.seq, result.epoch)
          if (split.length > 1) this.applyOwn(part, result.seq, stale)
          seq = result.seq
          epoch = result.epoch
          done++
        })
      } catch (error) {
        this.#notRecorded(split.slice(done).flat(), stale, error)
      }
      applied = split.length > 1
    }
    if (!applied) this.applyOwn(tags, seq, stale)
    this.counters.invalidations++
    if (this.events.has('invalidate')) this.events.emit('invalidate', { tags, seq, stale })
    if (!ack || this.sync === undefined || epoch === undefined) return { tags, seq }
    return { tags, seq, fleet: await this.sync.acknowledged(seq, epoch) }
  }

  /**
   * The store did not record `tags` (the parts of an invalidation from the first that failed):
   * they are applied here, queued for replay, and the caller is told.
   */
  #notRecorded(tags: readonly string[], stale: boolean, error: unknown): never {
    this.registry.apply(tags, this.#highestSeq + 1, stale)
    // A repeated failure applies the same guessed sequence: nothing may look unchanged to the
    // loads already running (callers must not join one that read the data before this).
    this.registry.touch()
    this.storeFailed(error, 'invalidate')
    if (this.#access?.queue(tags, stale) === true) {
      this.reportError(
        new CacheError(
          'E_INVALIDATION_NOT_RECORDED',
          'cachegraph: the replay queue overflowed; it will invalidate the whole cache once the store is back',
        ),
        'invalidate',
      )
    }
    throw new CacheError(
      'E_INVALIDATION_NOT_RECORDED',
      `cachegraph: invalidation of ${describeTags(tags)} applied in this process only; the shared store did not record it (queued for replay)`,
      { cause: error },
    )
  }

  /**
   * Checks the store's `{ seq, epoch }`: a new epoch means the store lost its state; nothing this
   * process holds can be validated any more, so L1 is dropped. A sequence lower than one seen
   * before may only be an older reply handled late (replies travel through promise chains of
   * different lengths), so it is verified with a fresh read first: only a store whose current
   * sequence is below what it already reported went backwards (a restored snapshot).
   */
  observe(seq: number, epoch: string): void {
    if (this.#epoch === undefined) {
      this.#epoch = epoch
    } else if (epoch !== this.#epoch) {
      return this.#lostState(seq, epoch)
    } else if (seq < this.#highestSeq) {
      return void this.#verifyBackwards()
    }
    if (seq > this.#highestSeq) this.#highestSeq = seq
  }

  #lostState(seq: number, epoch: string): void {
    this.#epoch = epoch
    this.#highestSeq = seq
    this.l1?.clear()
    this.registry.reset(seq)
    this.sync?.storeReset(seq, epoch)
    this.events.emit('store:reset', { epoch, seq })
  }

  #verifying: Promise<void> | undefined

  /** Reads the store's state again; a request sent now answers after everything seen so far. */
  #verifyBackwards(): Promise<void> {
    const store = this.store
    if (store === undefined) return Promise.resolve()
    this.#verifying ??= (async () => {
      const highest = this.#highestSeq
      const epoch = this.#epoch
      try {
        const now = await this.#access!.direct('read', () => store.read([]))
        if (now.epoch !== this.#epoch || (epoch === now.epoch && now.seq < highest)) {
          this.#lostState(now.seq, now.epoch)
        }
      } catch (error) {
        this.storeFailed(error, 'store:read')
      } finally {
        this.#verifying = undefined
      }
    })()
    return this.#verifying
  }

  /** Applies a step this process took itself (its own store call answered with `seq`). */
  applyOwn(tags: readonly string[], seq: number, stale: boolean): void {
    this.registry.apply(tags, seq, stale)
    if (this.#epoch !== undefined) this.sync?.ownStep(seq, this.#epoch)
  }

  /** Applies a step another process took, delivered by the bus. */
  applyRemote(tags: readonly string[], seq: number, stale: boolean): void {
    this.registry.apply(tags, seq, stale)
    if (this.events.has('bus:invalidate')) this.events.emit('bus:invalidate', { tags, seq, stale })
  }

  /**
   * Starts over from `floor` of `epoch`: the L1 is dropped and nothing older than `floor` is
   * vouched for unless a record says so. `lostState`: the store lost its state (reported as
   * `store:reset`); else this process lost track (a gap the log could not fill, first contact).
   */
  forgetBelow(floor: number, epoch: string, lostState: boolean): void {
    this.#epoch = epoch
    this.#highestSeq = lostState ? floor : Math.max(floor, this.#highestSeq)
    this.l1?.clear()
    this.registry.reset(floor)
    if (lostState) this.events.emit('store:reset', { epoch, seq: floor })
  }

  /** The bus started or stopped vouching: every L1 entry is checked again before its next hit. */
  trustChanged(): void {
    this.registry.touch()
  }

  busEvent<E extends 'bus:trusted' | 'bus:distrusted' | 'bus:sync'>(
    name: E,
    payload: CacheEvents[E],
  ): void {
    if (this.events.has(name)) this.events.emit(name, payload)
  }

  /** Runs a store call; failures are counted, reported as `error` events and turned into undefined. */
  async guardStore<T>(
    operation: StoreOperation,
    call: () => Promise<T>,
    timeoutMs?: number,
  ): Promise<T | undefined> {
    try {
      return await this.callStore(operation, call, timeoutMs)
    } catch (error) {
      this.storeFailed(error, `store:${operation}`)
      return undefined
    }
  }

  /** The shared tier's circuit breaker state. */
  get circuit(): CircuitState {
    return this.#access?.circuit ?? 'closed'
  }

  /** Invalidations waiting to be replayed to the store (for `stats()` and tests). */
  get replayPending(): number {
    return this.#access?.pending ?? 0
  }

  /**
   * A store call through {@link StoreAccess}; failures are thrown. `timeoutMs`: its limit when not
   * the operation's own (a part of a big batch, see {@link partBudget}).
   */
  callStore<T>(operation: StoreOperation, call: () => Promise<T>, timeoutMs?: number): Promise<T> {
    return (this.#access as StoreAccess).call(operation, call, timeoutMs)
  }

  /** The time limits of the `parts` parts of a big batch of `operation` (`part-budget.ts`). */
  partBudget(operation: StoreOperation, parts: number): PartBudget {
    return new PartBudget(this.#access?.timeout(operation) ?? Infinity, parts)
  }

  /** Counts and reports a failed store call. */
  storeFailed(error: unknown, operation: string): void {
    this.counters.errors++
    this.counters.l2Errors++
    this.reportError(error, operation)
  }

  reportError(error: unknown, operation: string, key?: string): void {
    if (this.events.has('error'))
      this.events.emit('error', { error, operation, ...(key === undefined ? {} : { key }) })
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.l1?.clear()
    this.events.clear()
    await this.sync?.close()
    await this.store?.close()
  }

  #assertOpen(): void {
    if (this.#closed) throw new CacheError('E_CLOSED', 'cachegraph: the cache is closed')
  }
}

/** The first few tags and how many there are: messages stay short whatever the batch. */
function describeTags(tags: readonly string[]): string {
  const shown = tags.slice(0, 5).map((tag) => (tag.length > 100 ? `${tag.slice(0, 100)}...` : tag))
  return tags.length <= 5 ? shown.join(', ') : `${tags.length} tags (${shown.join(', ')}, ...)`
}
