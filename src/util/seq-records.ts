/** Highest invalidation sequence recorded for a tag, hard (drop) and soft (serve stale). */
export interface SeqRecord {
  hard: number
  soft: number
}

/**
 * Tag records with a bound. Records are updated in place (re-inserting a key into a large `Map`
 * on every update is slow on V8); past `max` records the lowest tenth by sequence is dropped in
 * one pass and the floor rises to the highest sequence dropped. A tag without a record then
 * reads as invalidated at the floor: forgetting never makes an older entry valid again.
 */
export class SeqRecords {
  readonly #records = new Map<string, SeqRecord>()
  readonly #max: number
  #floor: number

  constructor(max: number, floor = 0) {
    this.#max = max
    this.#floor = floor
  }

  get floor(): number {
    return this.#floor
  }

  get size(): number {
    return this.#records.size
  }

  get(tag: string): SeqRecord | undefined {
    return this.#records.get(tag)
  }

  /**
   * Raises `tag`'s record to at least `hard` / `soft`; true when anything moved. A new record
   * starts at the floor (what may have been forgotten), unless it is `exact`: a complete record
   * read from the store, which may well be older than the floor.
   */
  raise(tag: string, hard: number, soft: number, exact = false): boolean {
    const record = this.#records.get(tag)
    if (record === undefined) {
      const floor = this.#floor
      const least = exact ? -Infinity : floor
      this.#records.set(tag, { hard: Math.max(hard, least), soft: Math.max(soft, least) })
      if (this.#records.size > this.#max) this.#evict()
      // Only a record above the floor says more than "unknown" did.
      return hard > floor || soft > floor
    }
    if (hard <= record.hard && soft <= record.soft) return false
    if (hard > record.hard) record.hard = hard
    if (soft > record.soft) record.soft = soft
    return true
  }

  /** Forgets every record; tags now read as invalidated at `floor`. */
  reset(floor: number): void {
    this.#records.clear()
    this.#floor = floor
  }

  #evict(): void {
    const keep = Math.floor(this.#max * 0.9)
    const seqs = new Float64Array(this.#records.size)
    let i = 0
    for (const record of this.#records.values()) seqs[i++] = Math.max(record.hard, record.soft)
    seqs.sort()
    const threshold = seqs[seqs.length - keep - 1] as number
    for (const [tag, record] of this.#records) {
      if (Math.max(record.hard, record.soft) <= threshold) this.#records.delete(tag)
    }
    if (threshold > this.#floor) this.#floor = threshold
  }
}
