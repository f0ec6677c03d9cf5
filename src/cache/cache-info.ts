import type { BusMember as FleetMember } from '../bus/bus.js'
import type { CacheSettings, EntryInfo } from '../types/options.js'
import type { Engine } from './engine.js'
import type { CacheEventName, CacheEvents } from './events.js'
import { l1KeyOf, type Namespace } from './model/namespace.js'
import { describeEntry, findDependents } from './ops/inspect.js'
import { listKeys, type ListedKey, type ListKeysOptions } from './ops/keys.js'
import type { CacheStats } from './stats.js'
import { checkKey } from './tags.js'

/**
 * What a cache tells about itself: its settings, the keys and entries it holds, its fleet, its
 * counters and events — and its end (`close`). {@link Cache} adds what it stores and reads.
 */
export abstract class CacheInfo {
  readonly #engine: Engine
  readonly #ns: Namespace

  /** @internal */
  protected constructor(engine: Engine, ns: Namespace) {
    this.#engine = engine
    this.#ns = ns
  }

  /** Read-only: the settings the layers built on the cache need (defaults, clock, bus). */
  get settings(): CacheSettings {
    const { options } = this.#engine
    return Object.freeze({
      ttlMs: options.ttlMs,
      graceMs: options.graceMs,
      maxSilenceMs: options.bus?.maxSilenceMs,
      storeName: this.#engine.store?.name,
      clock: options.clock,
      logger: options.logger,
    })
  }

  /** The shared tier's name (`'redis'`, `'memory'`, ...), undefined for an L1-only cache. */
  get storeName(): string | undefined {
    return this.#engine.store?.name
  }

  /** This namespace's path, e.g. `'app'` or `'app:users'`. */
  get name(): string {
    return this.#ns.path
  }

  /**
   * Lists keys of this namespace and its children, page by page: from the shared tier when there
   * is one (`SCAN`, never `KEYS`), else from this process's L1. Cursor `'0'` = done.
   */
  keys(options?: ListKeysOptions): Promise<{ keys: ListedKey[]; cursor: string }> {
    return listKeys(this.#engine, this.#ns, options)
  }

  /** An entry's tags, ttl, size and times, from L1 or the shared tier; undefined when absent. */
  async inspect(key: string): Promise<EntryInfo | undefined> {
    checkKey(key)
    return describeEntry(this.#engine, this.#ns.prefix + key, l1KeyOf(this.#ns, key))
  }

  /** Best effort, bounded: keys in this process's L1 that depend on `tag` (for debugging). */
  dependents(tag: string, options: { limit?: number } = {}): string[] {
    return findDependents(this.#engine, tag, this.#ns.l1Prefix, options.limit ?? 100)
  }

  /**
   * The fleet's members as the bus records them, newest first (at most 500): each one's `id` on
   * the bus, `pid`, `seenAt` (when it last said it was alive) and whether it is this cache
   * (`self`). A record older than `maxSilence` belongs to a process that is paused or gone.
   * `[]` without a bus: nothing records this process as a member of anything.
   */
  async members(): Promise<FleetMember[]> {
    this.#engine.assertOpen()
    return (await this.#engine.options.bus?.members?.()) ?? []
  }

  /** A synchronous snapshot of the counters (shared by all namespaces of this cache). */
  stats(): CacheStats {
    const engine = this.#engine
    return engine.counters.snapshot(
      engine.l1?.size ?? 0,
      engine.registry.size,
      { replayQueue: engine.shared?.pending ?? 0, circuit: engine.shared?.circuit ?? 'closed' },
      engine.sync?.stats(),
    )
  }

  /**
   * Reports a failure of something built on the cache (an HTTP layer's CDN purge, a background
   * job) the way the cache reports its own: as an `error` event, and to the `logger`. One
   * listener then hears every failure. Never throws.
   *
   * @example cache.reportError(error, 'cdn:purge')
   */
  reportError(error: unknown, operation: string, key?: string): void {
    this.#engine.reportError(error, operation, key)
  }

  on<E extends CacheEventName>(event: E, listener: (payload: CacheEvents[E]) => void): this {
    this.#engine.events.on(event, listener)
    return this
  }

  off<E extends CacheEventName>(event: E, listener: (payload: CacheEvents[E]) => void): this {
    this.#engine.events.off(event, listener)
    return this
  }

  /** Releases timers and connections (of every namespace: they share them). */
  close(): Promise<void> {
    return this.#engine.close()
  }
}
