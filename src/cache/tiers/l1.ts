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
 * A time or sequence an entry keeps inline as a small integer offset from a reference (a V8 small
 * integer lives in the field itself; a millisecond timestamp does not fit one and costs a 16-byte
 * heap number per field). A value the offset does not give back exactly is kept as it is when it
 * cannot be read as an offset (not an int32: a fraction, a large or infinite number), else boxed.
 */
type Kept = number | Exact

class Exact {
  constructor(readonly value: number) {}
}

/** An int32: read as an offset. */
const isOffset = (kept: number): boolean => (kept | 0) === kept

function keep(value: number, base: number): Kept {
  const offset = value - base
  if (isOffset(offset) && base + offset === value) return offset
  return isOffset(value) || value !== value ? new Exact(value) : value
}

const restore = (kept: Kept, base: number): number =>
  typeof kept === 'number' ? (isOffset(kept) ? base + kept : kept) : kept.value

/** The first start an entry was made with in this process: the reference of every later one. */
let startBase = NaN
/** The first finite expiry (or creation, for an entry without one): the reference of every later one. */
let timeBase = NaN

/**
 * What entries written alike share: their version and where their grace ends relative to their
 * expiry (the cache's or the call's grace: the same for nearly every entry). One object for all of
 * them — the last one made is reused while entries keep matching it — so an entry pays one field
 * for two.
 */
class Profile {
  constructor(
    readonly version: string | undefined,
    readonly staleUntil: Kept,
  ) {}
}

let lastProfile = new Profile(undefined, 0)

function profileOf(version: string | undefined, staleUntil: Kept): Profile {
  const last = lastProfile
  // An exact (boxed) offset never matches: such an entry gets a profile of its own.
  if (last.version === version && last.staleUntil === staleUntil) return last
  return (lastProfile = new Profile(version, staleUntil))
}

/** The reference `createdAt` is kept against: the expiry, or without one the process's first. */
const createdBase = (expiresAt: number): number =>
  expiresAt - expiresAt === 0 ? expiresAt : timeBase

/** `Node.flags`: the validity in the low bits, then the failure and SIEVE bits. */
const VALIDITY = 0b11
const FAILURE = 0b100
const VISITED = 0b1000

/**
 * An entry as the L1 keeps it: the writer's fields and the eviction policy's bit in one
 * object of one shape, every field set by the constructor. (An entry given fields after it was
 * made gets an out-of-object property array, +88 bytes, and a shape for each way it was built.)
 * `expiresAt` is kept as an offset from the process's first expiry, `createdAt` from `expiresAt`
 * and `start` from the process's first start: none needs a heap number of its own. `validity`,
 * `failure` and the SIEVE bit share one small integer; `version` and `staleUntil` are a
 * {@link Profile} most entries share. The hit path reads `value`, `flags`, `checkedAt` and
 * `#expiresAt` — the first fields, next to the object's header, so a hit touches as few cache
 * lines as it can — and the profile (one object for all, always in cache) for a version.
 */
class Node implements L1Entry {
  value: unknown
  /** Validity, failure and the SIEVE `visited` bit. */
  flags: number
  checkedAt: number
  readonly #expiresAt: Kept
  readonly #profile: Profile
  readonly tags: readonly string[]
  readonly tagStarts: readonly number[] | undefined
  readonly size: number
  /** When its key came in (kept when the entry is replaced): map order, for listing cursors. */
  readonly order: number
  readonly #start: Kept
  readonly #createdAt: Kept

  constructor(entry: L1Entry, order: number) {
    this.value = entry.value
    this.flags = entry.validity | (entry.failure ? FAILURE : 0)
    this.checkedAt = entry.checkedAt
    const expiresAt = entry.expiresAt
    if (timeBase !== timeBase) {
      timeBase = expiresAt - expiresAt === 0 ? expiresAt : entry.createdAt
    }
    this.#expiresAt = keep(expiresAt, timeBase)
    this.#profile = profileOf(entry.version, keep(entry.staleUntil, expiresAt))
    this.tags = entry.tags
    this.tagStarts = entry.tagStarts
    this.size = entry.size
    this.order = order
    const start = entry.start
    if (startBase !== startBase && start - start === 0) startBase = start
    this.#start = keep(start, startBase)
    this.#createdAt = keep(entry.createdAt, createdBase(expiresAt))
  }

  get validity(): Validity {
    return this.flags & VALIDITY
  }

  set validity(validity: Validity) {
    this.flags = (this.flags & ~VALIDITY) | validity
  }

  get failure(): boolean {
    return (this.flags & FAILURE) !== 0
  }

  get visited(): boolean {
    return (this.flags & VISITED) !== 0
  }

  /** Marks it used; writes only when it was not (a hit leaves its cache line clean). */
  visit(): void {
    const flags = this.flags
    if ((flags & VISITED) === 0) this.flags = flags | VISITED
  }

  /** Clears the SIEVE bit (the hand passed it). */
  unvisit(): void {
    this.flags &= ~VISITED
  }

  get version(): string | undefined {
    return this.#profile.version
  }

  get expiresAt(): number {
    return restore(this.#expiresAt, timeBase)
  }

  get start(): number {
    return restore(this.#start, startBase)
  }

  get createdAt(): number {
    return restore(this.#createdAt, createdBase(this.expiresAt))
  }

  get staleUntil(): number {
    return restore(this.#profile.staleUntil, this.expiresAt)
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
 * lookup, and the hit ratio is on par with LRU or better on skewed workloads. The queue is the
 * `Map`'s own insertion order and the hand an iterator of it (a `Map` iterator goes on past
 * deletions and sees later insertions): no list links per entry. A replaced entry keeps its
 * place. It knows nothing of tags: the engine validates entries against its tag registry.
 */
export class L1 {
  readonly #map = new Map<string, Node>()
  readonly #maxEntries: number
  readonly #maxBytes: number
  /** The SIEVE hand: the keys from where it stopped; undefined: start from the oldest. */
  #hand: Iterator<string> | undefined
  #bytes = 0
  #inserted = 0

  constructor(config: L1Config) {
    this.#maxEntries = config.maxEntries
    this.#maxBytes = config.maxBytes ?? Infinity
  }

  get(key: string): L1Entry | undefined {
    const node = this.#map.get(key)
    node?.visit()
    return node
  }

  /** Reads without marking the entry as used (for `inspect`). */
  peek(key: string): L1Entry | undefined {
    return this.#map.get(key)
  }

  /**
   * Stores (a copy of) `entry` unless a still-live entry built as of a later sequence is already
   * there: an older snapshot never overwrites a newer one (a slow loader racing a `set`).
   */
  set(key: string, entry: L1Entry, now: number): boolean {
    const current = this.#map.get(key)
    if (current !== undefined) {
      if (current.start > entry.start && current.staleUntil > now) return false
      this.#bytes -= current.size
    }
    if (entry.size > this.#maxBytes) {
      if (current !== undefined) this.#map.delete(key)
      return false
    }
    // A replaced entry keeps its map slot (overwritten, not deleted and re-inserted), so it keeps
    // its order too.
    const node = new Node(entry, current === undefined ? ++this.#inserted : current.order)
    this.#map.set(key, node)
    this.#bytes += node.size
    while (this.#map.size > this.#maxEntries || this.#bytes > this.#maxBytes) this.#evict()
    return true
  }

  delete(key: string): void {
    const node = this.#map.get(key)
    if (node === undefined) return
    this.#map.delete(key)
    this.#bytes -= node.size
  }

  clear(): void {
    this.#map.clear()
    this.#hand = undefined
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
    if (this.#map.size === 0) return
    // Each step clears a bit or evicts: one full turn clears them all, the next evicts.
    for (;;) {
      const step = this.#hand?.next()
      if (step === undefined || step.done === true) {
        this.#hand = this.#map.keys()
        continue
      }
      const node = this.#map.get(step.value) as Node
      if (node.visited) node.unvisit()
      else return this.delete(step.value)
    }
  }
}
