/** Highest invalidation sequences recorded for a tag, hard (drop) and soft (serve stale). */
export interface SeqRecord {
  hard: number
  soft: number
}

/**
 * Tag records with a bound. Past `max` records the lowest tenth by sequence is dropped in one
 * pass and the floor rises to the highest sequence dropped. A tag without a record then reads as
 * invalidated at the floor: forgetting never makes an older entry valid again.
 *
 * Kept lean because every process keeps up to `max` of them and a busy fleet replaces them fast
 * (each superseding `set` anywhere adds one): a record is one number in a `Map`, not an object,
 * and it is stored less `#base`, so it is a small integer to V8 rather than a heap number (the
 * sequences are microsecond-clock values, far past the small-integer range; their differences
 * are not). Updates are made in place: re-inserting a key into a large `Map` is slow on V8.
 */
export class SeqRecords {
  /** Every tag with a record: its hard sequence, less `#base`. */
  readonly #hard = new Map<string, number>()
  /**
   * Soft sequences above the tag's hard one, less `#base`. Only those can make an entry stale
   * (a soft record at or below the hard one is decided by the hard one), so most tags have none.
   */
  readonly #soft = new Map<string, number>()
  readonly #max: number
  #floor: number
  #base: number

  constructor(max: number, floor = 0) {
    this.#max = max
    this.#floor = floor
    this.#base = baseFor(floor)
  }

  get floor(): number {
    return this.#floor
  }

  get size(): number {
    return this.#hard.size
  }

  /** `tag`'s hard record; undefined when it has none (it then reads as invalidated at the floor). */
  hard(tag: string): number | undefined {
    const stored = this.#hard.get(tag)
    return stored === undefined ? undefined : stored + this.#base
  }

  /** `tag`'s soft record where it is above the hard one, else -Infinity. */
  soft(tag: string): number {
    // Most processes never soft-invalidate: no lookup then.
    if (this.#soft.size === 0) return -Infinity
    const stored = this.#soft.get(tag)
    return stored === undefined ? -Infinity : stored + this.#base
  }

  /** `tag`'s records, for a reply that reports them; undefined when it has none. */
  get(tag: string): SeqRecord | undefined {
    const hard = this.hard(tag)
    if (hard === undefined) return undefined
    return { hard, soft: Math.max(hard, this.soft(tag)) }
  }

  /**
   * Raises `tag`'s record to at least `hard` / `soft`; true when anything that can change a
   * check moved. A new record starts at the floor (what may have been forgotten), unless it is
   * `exact`: a complete record read from the store, which may well be older than the floor.
   */
  raise(tag: string, hard: number, soft: number, exact = false): boolean {
    const stored = this.#hard.get(tag)
    if (stored === undefined) return this.#add(tag, hard, soft, exact)
    const base = this.#base
    const before = stored + base
    let moved = false
    let top = before
    if (hard > before) {
      this.#hard.set(tag, hard - base)
      top = hard
      moved = true
    }
    const storedSoft = this.#soft.get(tag)
    if (soft > top) {
      if (storedSoft === undefined || soft - base > storedSoft) {
        this.#soft.set(tag, soft - base)
        moved = true
      }
    } else if (storedSoft !== undefined && storedSoft + base <= top) {
      // The hard record overtook the soft one, which can no longer decide anything.
      this.#soft.delete(tag)
    }
    return moved
  }

  /** Forgets every record; tags now read as invalidated at `floor`. */
  reset(floor: number): void {
    this.#hard.clear()
    this.#soft.clear()
    this.#floor = floor
    this.#base = baseFor(floor)
  }

  #add(tag: string, hard: number, soft: number, exact: boolean): boolean {
    const floor = this.#floor
    const least = exact ? -Infinity : floor
    const newHard = Math.max(hard, least)
    const newSoft = Math.max(soft, least)
    // The first record after a reset or a construction below the sequences in use sets the base.
    if (this.#hard.size === 0) this.#base = baseFor(Math.max(newHard, newSoft))
    const base = this.#base
    this.#hard.set(tag, newHard - base)
    if (newSoft > newHard) this.#soft.set(tag, newSoft - base)
    if (this.#hard.size > this.#max) this.#evict()
    // Only a record above the floor says more than "unknown" did.
    return hard > floor || soft > floor
  }

  #evict(): void {
    const size = this.#hard.size
    const drop = size - Math.floor(this.#max * 0.9)
    // A record's highest sequence: its soft one where that is above the hard one.
    const soft = this.#soft
    const top =
      soft.size === 0
        ? (stored: number) => stored
        : (stored: number, tag: string) => soft.get(tag) ?? stored
    // `forEach`, not `for...of` over entries: no [key, value] pair per record.
    const tops = new Float64Array(size)
    let i = 0
    this.#hard.forEach((stored, tag) => void (tops[i++] = top(stored, tag)))
    const threshold = kthSmallest(tops, drop - 1)
    this.#hard.forEach((stored, tag, hard) => {
      if (top(stored, tag) > threshold) return
      hard.delete(tag)
      soft.delete(tag)
    })
    const raised = threshold + this.#base
    if (raised > this.#floor) this.#floor = raised
  }
}

/** A base for stored sequences: `seq` itself where it is a number to subtract from, else 0. */
function baseFor(seq: number): number {
  return Number.isFinite(seq) ? seq : 0
}

/**
 * The `k`-th smallest value of `values` (0-based), in linear expected time; reorders `values`.
 * (Sorting all of them just to find one threshold was most of an eviction's cost.)
 */
export function kthSmallest(values: Float64Array, k: number): number {
  let low = 0
  let high = values.length - 1
  while (high > low) {
    // A random pivot: records arrive mostly in order with a few hot tags far above the rest,
    // and on such input a pivot taken from fixed places can make every pass peel off one value.
    const pivot = values[low + Math.floor(Math.random() * (high - low + 1))] as number
    let left = low
    let right = high
    while (left <= right) {
      while ((values[left] as number) < pivot) left++
      while ((values[right] as number) > pivot) right--
      if (left <= right) {
        const swap = values[left] as number
        values[left] = values[right] as number
        values[right] = swap
        left++
        right--
      }
    }
    if (k <= right) high = right
    else if (k >= left) low = left
    else return values[k] as number
  }
  return values[k] as number
}
