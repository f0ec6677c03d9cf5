import { nameHash } from './name-hash.js'

/** A count at this value stays there: it is no longer known how many names it stands for. */
const STUCK = 0xffff

/**
 * Which names may be present, counted per bucket (a counting Bloom filter with one hash): `has`
 * is true for every name added and not yet removed, and perhaps for others that share its bucket
 * — never false for a present name, as long as every `remove` matches an earlier `add`. A bucket
 * whose count overflows stays "present" for good, which is the safe answer. Buckets are allocated
 * on the first add.
 */
export class CountingFilter {
  #counts: Uint16Array | undefined
  readonly #mask: number

  /** `size`: the number of buckets, a power of two. */
  constructor(size: number) {
    this.#mask = size - 1
  }

  add(name: string): void {
    this.#counts ??= new Uint16Array(this.#mask + 1)
    const at = nameHash(name) & this.#mask
    const count = this.#counts[at] as number
    if (count !== STUCK) this.#counts[at] = count + 1
  }

  remove(name: string): void {
    const counts = this.#counts
    if (counts === undefined) return
    const at = nameHash(name) & this.#mask
    const count = counts[at] as number
    if (count !== STUCK && count > 0) counts[at] = count - 1
  }

  has(name: string): boolean {
    const counts = this.#counts
    return counts !== undefined && counts[nameHash(name) & this.#mask] !== 0
  }

  clear(): void {
    this.#counts = undefined
  }
}
