import { LRUCache } from 'lru-cache'

import type { EntryMeta } from './entry-codec.js'
import type { Validity } from './tag-registry.js'

/** An entry of the in-process tier. Values are kept as they are (no serialization). */
export interface L1Entry extends EntryMeta {
  /** The value as given (or a `CachedFailure`); never serialized. */
  value: unknown
  /** Every tag, implicit key and namespace tags included. */
  readonly tags: readonly string[]
  /** The oldest sequence any of its information is as of. */
  readonly start: number
  /** Per-tag starts when they differ (nested inputs); undefined: every tag is as of `start`. */
  readonly tagStarts: readonly number[] | undefined
  /** Registry generation at the last tag check: equal to the current one means "still valid". */
  checkedAt: number
  validity: Validity
  readonly size: number
}

/** Options of {@link L1}. */
export interface L1Config {
  maxEntries: number
  maxBytes: number | undefined
}

/**
 * The memory tier: an LRU (lru-cache) of {@link L1Entry}. It knows nothing of tags; the engine
 * validates entries against its tag registry.
 */
export class L1 {
  readonly #lru: LRUCache<string, L1Entry>

  constructor(config: L1Config) {
    this.#lru = new LRUCache<string, L1Entry>({
      max: config.maxEntries,
      ...(config.maxBytes === undefined
        ? {}
        : {
            maxSize: config.maxBytes,
            sizeCalculation: (entry: L1Entry) => Math.max(1, entry.size),
          }),
    })
  }

  get(key: string): L1Entry | undefined {
    return this.#lru.get(key)
  }

  /** Reads without touching recency (for `inspect`, `has`). */
  peek(key: string): L1Entry | undefined {
    return this.#lru.peek(key)
  }

  /**
   * Stores `entry` unless a still-live entry built as of a later sequence is already there: an
   * older snapshot never overwrites a newer one (a slow loader racing a `set`).
   */
  set(key: string, entry: L1Entry, now: number): boolean {
    const current = this.#lru.peek(key)
    if (current !== undefined && current.start > entry.start && current.staleUntil > now)
      return false
    this.#lru.set(key, entry)
    return true
  }

  delete(key: string): void {
    this.#lru.delete(key)
  }

  clear(): void {
    this.#lru.clear()
  }

  get size(): number {
    return this.#lru.size
  }

  /** Every key and entry, most recently used first. */
  entries(): IterableIterator<[string, L1Entry]> {
    return this.#lru.entries()
  }
}
