import { CacheError, isCacheError } from '../errors.js'
import type { Store, StoreReadResult } from '../stores/store.js'
import type { InvalidationResult } from '../types/options.js'
import { CachedFailure, type DecodedEntry, decodeEntry, type EntryMeta } from './entry-codec.js'
import { type CacheEvents, Emitter } from './events.js'
import { FleetSync } from './fleet-sync.js'
import { ReplayQueue } from './replay-queue.js'
import { StoreGuard, type StoreOperation } from './store-guard.js'
import { L1, type L1Entry } from './l1.js'
import type { ResolvedOptions } from './options.js'
import { estimateSize } from './size.js'
import { Counters } from './stats.js'
import { TagRegistry, Validity } from './tag-registry.js'
import { channels, traced } from './tracing.js'

/** A cache's place in the key and tag space. Children share the engine. */
export interface Namespace {
  /** `app` or `app:users`. */
  readonly path: string
  /** Prepended to keys: `app::` or `app:users::` (the `::` keeps paths and keys apart). */
  readonly prefix: string
  /** Implicit `@ns:` tags of this namespace and every ancestor: `clear()` of a parent reaches children. */
  readonly tags: readonly string[]
  /**
   * Prepended to keys in the L1: `''` for the root (no string building on the hit path),
   * `\0app:users\0` for children. Keys may not start with `\0`, so the two never collide.
   */
  readonly l1Prefix: string
}

/** An entry on its way to the tiers. */
export interface PendingWrite {
  fullKey: string
  l1Key: string
  value: unknown
  /** Every tag, implicit ones included. */
  tags: readonly string[]
  /** As-of sequence (the oldest of its tags); undefined = supersede, as of a fresh sequence. */
  start: number | undefined
  /** Per-tag starts when they differ from `start`. */
  tagStarts?: readonly number[] | undefined
  ttlMs: number
  /** Grace of this entry. @default the cache's `grace` */
  graceMs?: number
  /** `version` of the read-through call that wrote it. */
  version?: string | undefined
  /** Session-private: kept in L1 only, never in the shared tier. */
  localOnly?: boolean
}

/**
 * The L1 key of `key` in `ns`. The root's keys are used as given — the very string the caller
 * holds — so a lookup hashes nothing new and compares pointers before characters.
 */
export const l1KeyOf = (ns: Namespace, key: string): string =>
  ns.l1Prefix === '' ? key : ns.l1Prefix + key

/** Prefix of the implicit tags; user tags may not start with it. */
export const IMPLICIT = '@'
export const keyTag = (fullKey: string): string => `${IMPLICIT}key:${fullKey}`

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
  /** False while the bus cannot vouch for the L1: no L1 hits then. */
  #l1Trusted: boolean
  /** Time limits and the circuit breaker of shared-tier calls. */
  readonly #guard: StoreGuard
  /** Invalidations the store did not record, sent again before it is read again. */
  readonly #replay: ReplayQueue

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
    this.#guard = new StoreGuard(options.guard, options.clock, (state, cause) => {
      if (this.events.has('store:circuit')) this.events.emit('store:circuit', { state, cause })
    })
    this.#replay = new ReplayQueue(options.maxReplayTags, `${IMPLICIT}ns:${options.namespace}`)
    // With a bus, nothing is trusted before the first heartbeat shows where the fleet stands.
    this.#l1Trusted = options.bus === undefined
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

  /** The registry generation a new L1 entry counts as checked at (none while distrusted). */
  get checkedGeneration(): number {
    return this.#l1Trusted ? this.registry.generation : -1
  }

  get closed(): boolean {
    return this.#closed
  }

  /** An L1 entry that is not invalidated (it may be expired or soft-stale: callers decide). */
  lookupL1(l1Key: string): L1Entry | undefined {
    const entry = this.l1?.get(l1Key)
    if (entry === undefined) return undefined
    // With a bus, every hit asks whether it still vouches (it may have been silent too long).
    if (this.sync !== undefined && !this.sync.trusted) return undefined
    const generation = this.registry.generation
    if (entry.checkedAt !== generation) {
      // The bus cannot vouch for what this process knows: no L1 hits (kept for later).
      if (!this.#l1Trusted) return undefined
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
        checkedAt: this.checkedGeneration,
        validity,
        size: this.sizeOf(entry.value),
        failure: entry.value instanceof CachedFailure,
      },
      now,
    )
  }

  /**
   * Reads from the shared tier; undefined (reported, not thrown) when it is unreachable.
   *
   * With a trusted bus that has delivered every step up to the store's current sequence, the
   * entries are fetched unchecked (one plain `MGET` on Redis, no script) and judged here; the
   * few whose tags this process cannot vouch for are read again with the store's check.
   */
  async readStore(keys: readonly string[]): Promise<StoreReadResult | undefined> {
    const store = this.store as Store
    if (this.sync?.trusted === true && store.readUnchecked !== undefined) {
      let fast: StoreReadResult | undefined
      try {
        fast = await this.callStore('read', () => store.readUnchecked!(keys))
      } catch (error) {
        this.#storeFailed(error, 'store:read')
        if (this.options.strict) throw storeError(error)
        return undefined
      }
      if (fast !== undefined && this.sync.covers(fast.seq, fast.epoch)) {
        this.observe(fast.seq, fast.epoch)
        return this.#judgeUnchecked(keys, fast)
      }
    }
    return this.#readChecked(keys)
  }

  async #readChecked(keys: readonly string[]): Promise<StoreReadResult | undefined> {
    let result: StoreReadResult
    try {
      result = await this.callStore('read', () => this.store!.read(keys))
    } catch (error) {
      this.#storeFailed(error, 'store:read')
      if (this.options.strict) throw storeError(error)
      return undefined
    }
    this.observe(result.seq, result.epoch)
    this.registry.learn(result.tagSeqs)
    return result
  }

  /** Keeps the entries this process can judge; reads the others again, checked by the store. */
  async #judgeUnchecked(
    keys: readonly string[],
    fast: StoreReadResult,
  ): Promise<StoreReadResult | undefined> {
    const unsure: number[] = []
    fast.entries.forEach((entry, i) => {
      if (entry !== undefined && !this.registry.decides(entry.tags, entry.start, entry.tagStarts))
        unsure.push(i)
    })
    if (unsure.length === 0) return fast
    const checked = await this.#readChecked(unsure.map((i) => keys[i] as string))
    // Unreachable now: what cannot be vouched for is a miss.
    unsure.forEach((i, n) => (fast.entries[i] = checked?.entries[n]))
    return fast
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
  invalidate(tags: readonly string[], stale: boolean): Promise<InvalidationResult> {
    return traced(channels.invalidate, { tags }, () => this.#invalidate(tags, stale))
  }

  async #invalidate(tags: readonly string[], stale: boolean): Promise<InvalidationResult> {
    this.#assertOpen()
    let seq: number
    if (this.store === undefined) {
      seq = ++this.#localSeq
    } else {
      const store = this.store
      try {
        const result = await this.callStore('invalidate', () => store.invalidate(tags, { stale }))
        this.observe(result.seq, result.epoch)
        seq = result.seq
      } catch (error) {
        this.registry.apply(tags, this.#highestSeq + 1, stale)
        // A repeated failure applies the same guessed sequence: nothing may look unchanged to the
        // loads already running (callers must not join one that read the data before this).
        this.registry.touch()
        this.#storeFailed(error, 'invalidate')
        if (this.#replay.add(tags, stale)) {
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
          `cachegraph: invalidation of ${tags.join(', ')} applied in this process only; the shared store did not record it (queued for replay)`,
          { cause: error },
        )
      }
    }
    this.applyOwn(tags, seq, stale)
    this.counters.invalidations++
    if (this.events.has('invalidate')) this.events.emit('invalidate', { tags, seq, stale })
    return { tags, seq }
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
        const now = await this.#guard.run('read', () => store.read([]))
        if (now.epoch !== this.#epoch || (epoch === now.epoch && now.seq < highest)) {
          this.#lostState(now.seq, now.epoch)
        }
      } catch (error) {
        this.#storeFailed(error, 'store:read')
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

  /** The bus can (again) or can no longer vouch for the L1. */
  setTrusted(trusted: boolean): void {
    this.#l1Trusted = trusted
    // Every L1 entry takes the checked path once: refused while distrusted, rechecked after.
    this.registry.touch()
  }

  busEvent<E extends 'bus:trusted' | 'bus:distrusted' | 'bus:sync'>(
    name: E,
    payload: CacheEvents[E],
  ): void {
    if (this.events.has(name)) this.events.emit(name, payload)
  }

  /** Runs a store call; failures are counted, reported as `error` events and turned into undefined. */
  async guardStore<T>(operation: StoreOperation, call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await this.callStore(operation, call)
    } catch (error) {
      this.#storeFailed(error, `store:${operation}`)
      return undefined
    }
  }

  /** The shared tier's circuit breaker state. */
  get circuit(): 'closed' | 'open' | 'half-open' {
    return this.#guard.state
  }

  /** Invalidations waiting to be replayed to the store (for `stats()` and tests). */
  get replayPending(): number {
    return this.#replay.size
  }

  /**
   * A store call within its time limit and the circuit breaker; failures are thrown. Invalidations
   * the store missed go first: nothing is read from (or written to) a store that has not heard of
   * them.
   */
  async callStore<T>(operation: StoreOperation, call: () => Promise<T>): Promise<T> {
    if (this.#replay.size > 0) await this.#replayInvalidations()
    return this.#guard.run(operation, call)
  }

  #replayInvalidations(): Promise<void> {
    const store = this.store as Store
    return this.#replay.drain(async (tags, stale) => {
      const result = await this.#guard.run('invalidate', () => store.invalidate(tags, { stale }))
      this.observe(result.seq, result.epoch)
      this.applyOwn(tags, result.seq, stale)
    })
  }

  #storeFailed(error: unknown, operation: string): void {
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

/** A store failure as strict readers see it. */
function storeError(error: unknown): CacheError {
  if (isCacheError(error)) return error
  return new CacheError('E_STORE', 'cachegraph: the shared store failed', { cause: error })
}
