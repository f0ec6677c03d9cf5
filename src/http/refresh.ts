import type { Cache } from '../index.js'

/** Most keys whose last refresh one process remembers (about 1 MB with 100-byte keys). */
const MAX_REMEMBERED = 10_000

/**
 * How often a client's `Cache-Control: no-cache` may refresh a key in this process. Anyone can
 * send that header: honoured on every request it would make each one a handler run, a store
 * write and a fleet-wide bus message — an amplification lever. A key is refreshed at most once
 * per `intervalMs`; the core also skips a refresh when the entry itself is younger than that,
 * which holds across the fleet.
 *
 * Memory is bounded: the oldest claims go first, those past the interval before any other. A
 * flood of distinct keys can push a recent claim out early, which lets that key be refreshed
 * once more — no worse than the misses those distinct keys cost anyway.
 */
export class RefreshLimiter {
  readonly #intervalMs: number
  /** Key → when it was last claimed, oldest first (a claim moves its key to the end). */
  readonly #claims = new Map<string, number>()

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs
  }

  /**
   * Claims a refresh of `key` at `now`; `false` when one was claimed less than the interval ago.
   * Claiming first, before any I/O, is what keeps concurrent requests from all refreshing.
   */
  claim(key: string, now: number): boolean {
    const last = this.#claims.get(key)
    if (last !== undefined && now - last < this.#intervalMs && now >= last) return false
    this.#claims.delete(key)
    this.#claims.set(key, now)
    for (const [old, at] of this.#claims) {
      if (this.#claims.size <= MAX_REMEMBERED && now - at < this.#intervalMs) break
      this.#claims.delete(old)
    }
    return true
  }

  /** The key's last refresh was in fact at `at` (its entry was stored then): claimed no later. */
  settle(key: string, at: number): void {
    if (this.#claims.has(key)) this.#claims.set(key, at)
  }
}

/**
 * Whether a client's `no-cache` may refresh a key now (`minRefresh`): not when this process
 * claimed a refresh of it less than `minRefresh` ago, nor when its entry is younger than that —
 * whichever process stored it. RFC 9111 §5.2.1.4 lets a cache reuse a stored response for a
 * `no-cache` request once it is validated; an entry stored within `minRefresh` stands in for
 * that validation.
 */
export class RefreshGate {
  readonly #cache: Cache
  readonly #intervalMs: number
  /** The cache's clock, which also dates its entries. */
  readonly #now: () => number
  readonly #limiter: RefreshLimiter | undefined

  constructor(cache: Cache, intervalMs: number, now: () => number) {
    this.#cache = cache
    this.#intervalMs = intervalMs
    this.#now = now
    this.#limiter = intervalMs > 0 ? new RefreshLimiter(intervalMs) : undefined
  }

  /** Resolves `true` when `key` may be refreshed; never rejects (`onError` hears why). */
  async allows(key: string, onError: (error: unknown) => void): Promise<boolean> {
    const limiter = this.#limiter
    if (limiter === undefined) return true
    if (!limiter.claim(key, this.#now())) return false
    try {
      const entry = await this.#cache.inspect(key)
      if (entry?.status !== 'valid') return true
      if (this.#now() - entry.createdAt >= this.#intervalMs) return true
      limiter.settle(key, entry.createdAt)
      return false
    } catch (error) {
      // Unknown age: this process's limit still holds.
      onError(error)
      return true
    }
  }
}
