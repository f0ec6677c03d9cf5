import { nameHash } from './name-hash.js'

/**
 * The highest sequence heard of per bucket of names: a fixed-size stand-in for records a process
 * chose not to keep. A name's bucket answers at least the highest sequence raised for that name —
 * never less, so an entry it lets through is valid — and possibly more (another name of the same
 * bucket): a false alarm, which makes the caller ask someone who knows exactly, never a stale read.
 * The buckets are allocated on the first raise: a process that never needs them pays nothing.
 */
export class SeqSketch {
  #buckets: Float64Array | undefined
  readonly #mask: number

  /** `size`: the number of buckets, a power of two. */
  constructor(size: number) {
    this.#mask = size - 1
  }

  /** Nothing was raised since the last reset: every answer is -Infinity. */
  get empty(): boolean {
    return this.#buckets === undefined
  }

  raise(name: string, seq: number): void {
    this.#buckets ??= new Float64Array(this.#mask + 1).fill(-Infinity)
    const at = nameHash(name) & this.#mask
    if ((this.#buckets[at] as number) < seq) this.#buckets[at] = seq
  }

  /** At least the highest sequence raised for `name` since the last reset. */
  get(name: string): number {
    const buckets = this.#buckets
    return buckets === undefined ? -Infinity : (buckets[nameHash(name) & this.#mask] as number)
  }

  reset(): void {
    this.#buckets = undefined
  }
}
