/** Where a value came from. */
export type Tier = 'l1' | 'l2'

/** Payloads of the typed events of a cache. */
export interface CacheEvents {
  hit: { key: string; tier: Tier; stale: boolean }
  miss: { key: string }
  set: { key: string; tags: readonly string[] }
  delete: { keys: readonly string[] }
  invalidate: { tags: readonly string[]; seq: number; stale: boolean }
  error: { error: unknown; operation: string; key?: string }
  /** A session's loop detection fired (`cache.session(id, fn, { loopDetection })`). */
  loop: { session: string; key: string; kind: 'repeat' | 'depth' | 'oscillation' }
  /** The shared tier lost its state (restart, failover, FLUSHDB): the L1 was dropped. */
  'store:reset': { epoch: string; seq: number }
  /**
   * The circuit breaker of the shared tier changed state: `open` after repeated failures (calls
   * are skipped, reads go to loaders), `half-open` when one probe is let through, `closed` again.
   */
  'store:circuit': { state: 'closed' | 'open' | 'half-open'; cause: unknown }
  /**
   * Another process's invalidation (or superseding write) arrived over the bus and was applied.
   * `origin`: the member id of the process that sent it (`cachegraph-bus-<pid>-<random>` on a
   * Redis bus).
   */
  'bus:invalidate': { tags: readonly string[]; seq: number; stale: boolean; origin: string }
  /** The bus vouches for this process again (after start, a lost connection, silence or a gap). */
  'bus:trusted': { seq: number }
  /** The bus can no longer vouch for this process: the L1 serves no hits until `bus:trusted`. */
  'bus:distrusted': { reason: 'start' | 'lost' | 'silence' | 'gap' }
  /** A gap was made up from the store's log (`replayed` steps), or could not be (`startedOver`). */
  'bus:sync': { seq: number; replayed: number; startedOver: boolean }
  /**
   * `close()` was called (through any namespace of the cache), before timers and connections
   * are released: the last event, listeners are dropped right after it.
   */
  close: Record<string, never>
}

export type CacheEventName = keyof CacheEvents
type Listener<E extends CacheEventName> = (payload: CacheEvents[E]) => void

/**
 * A small typed emitter. `has(name)` lets hot paths skip building payloads nobody listens to.
 * A throwing listener is isolated: it cannot break the cache operation that emitted.
 */
export class Emitter {
  readonly #listeners = new Map<CacheEventName, Set<Listener<CacheEventName>>>()
  /** Someone listens to `hit`: read on every hit, so a plain field. */
  hasHitListeners = false

  on<E extends CacheEventName>(name: E, listener: Listener<E>): void {
    let set = this.#listeners.get(name)
    if (set === undefined) this.#listeners.set(name, (set = new Set()))
    set.add(listener as Listener<CacheEventName>)
    this.hasHitListeners = this.#listeners.has('hit')
  }

  off<E extends CacheEventName>(name: E, listener: Listener<E>): void {
    const set = this.#listeners.get(name)
    set?.delete(listener as Listener<CacheEventName>)
    if (set?.size === 0) this.#listeners.delete(name)
    this.hasHitListeners = this.#listeners.has('hit')
  }

  has(name: CacheEventName): boolean {
    return this.#listeners.has(name)
  }

  emit<E extends CacheEventName>(name: E, payload: CacheEvents[E]): void {
    const set = this.#listeners.get(name)
    if (set === undefined) return
    for (const listener of set) {
      try {
        listener(payload)
      } catch (error) {
        if (name !== 'error') this.emit('error', { error, operation: `listener:${name}` })
      }
    }
  }

  clear(): void {
    this.#listeners.clear()
    this.hasHitListeners = false
  }
}
