import { CacheError } from '../errors.js'
import { logError } from '../warnings.js'
import type { Store } from '../stores/store.js'
import { type CacheEvents, Emitter } from './events.js'
import { type FleetHost, FleetSync } from './model/fleet-sync.js'
import { IMPLICIT, type PendingWrite } from './model/namespace.js'
import { Sequence } from './model/sequence.js'
import { TagRegistry, Validity } from './model/tag-registry.js'
import type { ResolvedOptions } from './options.js'
import { Counters } from './stats.js'
import { CachedFailure, type DecodedEntry, type EntryMeta } from './tiers/entry-codec.js'
import { L1 } from './tiers/l1.js'
import type { LookupHost } from './tiers/lookup.js'
import { SharedTier } from './tiers/shared.js'
import { estimateSize } from './tiers/size.js'
import { StoreAccess } from './tiers/store-access.js'

/**
 * What a cache and all its namespaces share, wired together: the model (sequence, tag registry,
 * fleet sync), the tiers (L1, shared), counters and events. The operations live in `ops/`, the
 * decision whether an entry is served in `model/validity.ts` (through `tiers/lookup.ts`).
 */
export class Engine implements LookupHost, FleetHost {
  readonly options: ResolvedOptions
  readonly registry: TagRegistry
  /** The one owner of this process's `seq` and `epoch`. */
  readonly sequence: Sequence
  readonly l1: L1 | undefined
  readonly store: Store | undefined
  /** The shared tier with its time limits, breaker and replay queue (undefined without a store). */
  readonly shared: SharedTier | undefined
  readonly counters = new Counters()
  readonly events = new Emitter()
  /** `options.enabled` and `options.clock`, kept at hand for the hit path. */
  readonly enabled: boolean
  readonly clock: ResolvedOptions['clock']
  /** `l1.clone`: hand out and keep copies. */
  readonly clone: boolean
  /** With a bus: what this process knows of the fleet's invalidations, and whether that is all. */
  readonly sync: FleetSync | undefined
  readonly #sizeOf: ((value: unknown) => number) | undefined
  #closed = false

  constructor(options: ResolvedOptions) {
    this.options = options
    this.enabled = options.enabled
    this.clock = options.clock
    this.registry = new TagRegistry(options.maxTags)
    this.l1 = options.l1 === false ? undefined : new L1(options.l1)
    this.store = options.store
    // The store was created apart from the cache: its warnings go to the cache's logger too.
    if (options.logger !== undefined) options.store?.useLogger?.(options.logger)
    const l1 = options.l1 === false ? undefined : options.l1
    this.clone = l1?.clone === true
    const needsSizes = l1?.maxBytes !== undefined || options.maxEntryBytes !== undefined
    this.#sizeOf = l1?.sizeOf ?? (needsSizes ? estimateSize : undefined)
    this.sequence = new Sequence(options.clock.now(), {
      lost: (seq, epoch) => {
        this.l1?.clear()
        this.registry.reset(seq)
        this.sync?.storeReset(seq)
        this.events.emit('store:reset', { epoch, seq })
      },
      current: async () => {
        const shared = this.shared
        if (shared === undefined) return undefined
        try {
          return await shared.direct('read', () => shared.store.read([]))
        } catch (error) {
          this.storeFailed(error, 'store:read')
          return undefined
        }
      },
    })
    this.shared = options.store === undefined ? undefined : this.#sharedTier(options.store)
    this.sync =
      options.bus === undefined || options.store === undefined
        ? undefined
        : new FleetSync(this, options.bus, options.store)
  }

  #sharedTier(store: Store): SharedTier {
    const options = this.options
    const access = new StoreAccess(
      store,
      { ...options, rootTag: `${IMPLICIT}ns:${options.namespace}` },
      {
        circuit: (state, cause) => {
          if (this.events.has('store:circuit')) this.events.emit('store:circuit', { state, cause })
        },
        replayed: (tags, seq, epoch, stale) => {
          this.sequence.observe(seq, epoch)
          this.applyOwn(tags, seq, stale)
        },
      },
    )
    return new SharedTier(store, access, {
      registry: this.registry,
      sequence: this.sequence,
      sync: () => this.sync,
      serializer: options.serializer,
      strict: options.strict,
      failed: (error, operation) => this.storeFailed(error, operation),
      reportError: (error, operation, key) => this.reportError(error, operation, key),
    })
  }

  get closed(): boolean {
    return this.#closed
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

  /**
   * Puts a shared-tier entry into L1 with its original `start`. With `l1.clone`, L1 keeps a copy:
   * the decoded value itself goes to the caller, whose changes must not reach later hits.
   */
  fillL1(l1Key: string, entry: DecodedEntry, now: number): void {
    const l1 = this.l1
    if (l1 === undefined) return
    const validity = this.registry.check(entry.tags, entry.start, entry.tagStarts)
    if (validity === Validity.Invalid) return
    const { value, tags, start, tagStarts, createdAt, expiresAt, staleUntil, version } = entry
    const failure = value instanceof CachedFailure
    l1.set(
      l1Key,
      {
        value: this.clone && !failure ? structuredClone(value) : value,
        tags,
        start,
        tagStarts,
        createdAt,
        expiresAt,
        staleUntil,
        version,
        checkedAt: this.registry.generation,
        validity,
        size: this.sizeOf(value),
        failure,
      },
      now,
    )
  }

  /** The sequence a load or write starting now is "as of". */
  async begin(): Promise<number> {
    if (this.shared === undefined) return this.sequence.local
    const result = await this.shared.read([])
    // Unreachable store: an older token is always safe (it can only void more writes).
    return result?.seq ?? this.sequence.highest
  }

  /** The current sequence of an L1-only cache (undefined with a store: ask the store). */
  localSeq(): number | undefined {
    return this.store === undefined ? this.sequence.local : undefined
  }

  /** Applies a step this process took itself (its own store call answered with `seq`). */
  applyOwn(tags: readonly string[], seq: number, stale: boolean): void {
    this.registry.apply(tags, seq, stale)
    if (this.sequence.epoch !== undefined) this.sync?.ownStep(seq)
  }

  /** Applies a step another process took, delivered by the bus. */
  applyRemote(tags: readonly string[], seq: number, stale: boolean, origin: string): void {
    this.registry.apply(tags, seq, stale)
    if (this.events.has('bus:invalidate')) {
      this.events.emit('bus:invalidate', { tags, seq, stale, origin })
    }
  }

  /**
   * Starts over from `floor` of `epoch`: the L1 is dropped and nothing older than `floor` is
   * vouched for unless a record says so. `lostState`: the store lost its state (reported as
   * `store:reset`); else this process lost track (a gap the log could not fill, first contact).
   */
  forgetBelow(floor: number, epoch: string, lostState: boolean): void {
    this.sequence.startOver(floor, epoch, lostState)
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

  /** Counts and reports a failed store call. */
  storeFailed(error: unknown, operation: string): void {
    this.counters.errors++
    this.counters.l2Errors++
    this.reportError(error, operation)
  }

  reportError(error: unknown, operation: string, key?: string): void {
    if (this.events.has('error'))
      this.events.emit('error', { error, operation, ...(key === undefined ? {} : { key }) })
    const { logger } = this.options
    if (logger !== undefined) {
      logError(logger, `cachegraph: ${operation} failed`, error, {
        operation,
        ...(key === undefined ? {} : { key }),
      })
    }
  }

  /** Throws `E_CLOSED` once the cache is closed. */
  assertOpen(): void {
    if (this.#closed) throw new CacheError('E_CLOSED', 'cachegraph: the cache is closed')
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    // Before anything is released: a listener may still end what depends on the cache.
    this.events.emit('close', {})
    this.l1?.clear()
    this.events.clear()
    await this.sync?.close()
    await this.store?.close()
  }
}
