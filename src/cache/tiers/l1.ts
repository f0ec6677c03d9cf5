import type { EntryMeta } from './entry-codec.js'
import type { Validity } from '../model/tag-registry.js'

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
  /** The value is a `CachedFailure` (kept as a flag: the hit path tests it for free). */
  readonly failure: boolean
}

/**
 * A time or sequence an entry keeps inline as a small integer offset from one of its own fields
 * (a V8 small integer lives in the field itself; a millisecond timestamp does not fit one and
 * costs a 16-byte heap number per field), or, when the offset does not give the value back
 * exactly, the value itself in a box of its own.
 */
type Kept = number | Exact

class Exact {
  constructor(readonly value: number) {}
}

const SMALL = 0x3fffffff

/** `value` kept against `base`: `value - base` when `base + (value - base)` is `value` exactly. */
function keep(value: number, base: number): Kept {
  const offset = value - base
  return Number.isInteger(offset) && offset >= -SMALL && offset <= SMALL && base + offset === value
    ? offset
    : new Exact(value)
}

const restore = (kept: Kept, base: number): number =>
  typeof kept === 'number' ? base + kept : kept.value

/** The first start an entry was made with in this process: the reference of every later one. */
let startBase = NaN

/**
 * An entry as the L1 keeps it: the writer's fields and the eviction policy's bookkeeping in one
 * object of one shape, every field set by the constructor. (An entry given fields after it was
 * made gets an out-of-object property array, +88 bytes, and a shape for each way it was built.)
 * `createdAt` and `staleUntil` are kept as offsets from `expiresAt`, and `start` from the
 * process's first start: a few bytes where a heap number each would cost 16. The hit path reads
 * `expiresAt`, `version`, `failure`, `checkedAt` and `validity`, plain fields.
 */
class Node implements L1Entry {
  value: unknown
  readonly tags: readonly string[]
  readonly tagStarts: readonly number[] | undefined
  readonly expiresAt: number
  readonly version: string | undefined
  checkedAt: number
  validity: Validity
  readonly size: number
  readonly failure: boolean
  readonly key: string
  /** When its key came in (kept when the entry is replaced): map order, for listing cursors. */
  readonly order: number
  visited = false
  /** Towards the newest entry. */
  newer: Node | undefined = undefined
  /** Towards the oldest entry. */
  older: Node | undefined = undefined
  readonly #start: Kept
  readonly #createdAt: Kept
  readonly #staleUntil: Kept

  constructor(key: string, entry: L1Entry, order: number) {
    this.value = entry.value
    this.tags = entry.tags
    this.tagStarts = entry.tagStarts
    this.expiresAt = entry.expiresAt
    this.version = entry.version
    this.checkedAt = entry.checkedAt
    this.validity = entry.validity
    this.size = entry.size
    this.failure = entry.failure
    this.key = key
    this.order = order
    const start = entry.start
    if (startBase !== startBase) startBase = start
    this.#start = keep(start, startBase)
    this.#createdAt = keep(entry.createdAt, entry.expiresAt)
    this.#staleUntil = keep(entry.staleUntil, entry.expiresAt)
  }

  get start(): number {
    return restore(this.#start, startBase)
  }

  get createdAt(): number {
    return restore(this.#createdAt, this.expiresAt)
  }

  get staleUntil(): number {
    return restore(this.#staleUntil, this.expiresAt)
  }
}

/** Options of {@link L1}. */
export interface L1Config {
  maxEntries: number
  maxBytes: number | undefined
}

/**
 * The memory tier, evicting with SIEVE (Zhang et al., NSDI '24): entries sit in insertion order;
 * a hit only sets `visited`; to make room a hand walks from the oldest entry towards the newest,
 * clearing `visited` bits and evicting the first entry it finds unvisited. Hits therefore write
 * one boolean instead of moving list nodes, which keeps the hit path close to a bare `Map`
 * lookup, and the hit ratio is on par with LRU or better on skewed workloads. It knows nothing of
 * tags: the engine validates entries against its tag registry.
 */
export class L1 {
  readonly #map = new Map<string, Node>()
  readonly #maxEntries: number
  readonly #maxBytes: number
  #newest: Node | undefined
  #oldest: Node | undefined
  #hand: Node | undefined
  #bytes = 0
  #inserted = 0

  constructor(config: L1Config) {
    this.#maxEntries = config.maxEntries
    this.#maxBytes = config.maxBytes ?? Infinity
  }

  get(key: string): L1Entry | undefined {
    const node = this.#map.get(key)
    if (node !== undefined) node.visited = true
    return node
  }

  /** Reads without marking the entry as used (for `inspect`). */
  peek(key: string): L1Entry | undefined {
    return this.#map.get(key)
  }

  /**
   * Stores (a copy of) `entry` unless a still-live entry built as of a later sequence is already there: an
   * older snapshot never overwrites a newer one (a slow loader racing a `set`).
   */
  set(key: string, entry: L1Entry, now: number): boolean {
    const current = this.#map.get(key)
    if (current !== undefined) {
      if (current.start > entry.start && current.staleUntil > now) return false
      // Unlinked from the list only: the map slot is overwritten below (no delete + re-insert).
      this.#detach(current)
      this.#bytes -= current.size
    }
    if (entry.size > this.#maxBytes) {
      if (current !== undefined) this.#map.delete(key)
      return false
    }
    // A replaced entry keeps its map slot, so it keeps its order too.
    const node = new Node(key, entry, current === undefined ? ++this.#inserted : current.order)
    node.older = this.#newest
    if (this.#newest !== undefined) this.#newest.newer = node
    this.#newest = node
    this.#oldest ??= node
    this.#map.set(key, node)
    this.#bytes += node.size
    while (this.#map.size > this.#maxEntries || this.#bytes > this.#maxBytes) this.#evict()
    return true
  }

  delete(key: string): void {
    const node = this.#map.get(key)
    if (node !== undefined) this.#unlink(node)
  }

  clear(): void {
    this.#map.clear()
    this.#newest = this.#oldest = this.#hand = undefined
    this.#bytes = 0
  }

  get size(): number {
    return this.#map.size
  }

  /** Every key and entry. */
  entries(): IterableIterator<[string, L1Entry]> {
    return this.#map.entries()
  }

  /**
   * The entries whose key came in after `order` (one this returned; 0 for all), oldest first, with
   * their order: a listing cursor that entries leaving meanwhile cannot shift (a position can).
   */
  *entriesAfter(order: number): Generator<[key: string, entry: L1Entry, order: number]> {
    for (const [key, node] of this.#map) if (node.order > order) yield [key, node, node.order]
  }

  #evict(): void {
    let node = this.#hand ?? this.#oldest
    while (node !== undefined && node.visited) {
      node.visited = false
      node = node.newer ?? this.#oldest
    }
    if (node === undefined) return
    this.#hand = node.newer
    this.#unlink(node)
  }

  #unlink(node: Node): void {
    this.#detach(node)
    this.#map.delete(node.key)
    this.#bytes -= node.size
  }

  #detach(node: Node): void {
    if (this.#hand === node) this.#hand = node.newer
    if (node.newer === undefined) this.#newest = node.older
    else node.newer.older = node.older
    if (node.older === undefined) this.#oldest = node.newer
    else node.older.newer = node.newer
    node.newer = node.older = undefined
  }
}
