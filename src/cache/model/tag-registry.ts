import type { TagSeq } from '../../stores/store.js'
import { SeqRecords } from '../../util/seq-records.js'

/** Outcome of checking an entry's tags against the invalidations this process knows. */
export const enum Validity {
  Valid = 0,
  /** A soft (`stale: true`) invalidation touched it: servable only as a stale value. */
  Soft = 1,
  Invalid = 2,
}

/**
 * The invalidations this process has heard of: for each tag, the highest hard and soft sequence
 * (from its own calls, from store reads, from the bus).
 *
 * `generation` moves whenever anything here changes, so an entry checked at the current
 * generation needs no tag loop (the O(1) hit path). The records are bounded: forgetting some
 * raises `floor`, and a tag without a record counts as invalidated at `floor` — an entry older
 * than a forgotten record is distrusted, never revived.
 */
export class TagRegistry {
  readonly #records: SeqRecords
  /** Bumped on every change; entries remember the generation they were last checked at. */
  generation = 0

  constructor(maxTags: number) {
    this.#records = new SeqRecords(maxTags)
  }

  get size(): number {
    return this.#records.size
  }

  /** Records an invalidation of `tags` at `seq`. */
  apply(tags: readonly string[], seq: number, stale: boolean): void {
    const floor = this.#records.floor
    let changed = false
    for (const tag of tags) {
      if (this.#records.raise(tag, stale ? -1 : seq, stale ? seq : -1)) changed = true
    }
    if (changed || this.#records.floor !== floor) this.generation++
  }

  /**
   * Learns records reported by a store read (only ever raises what is known). They are complete
   * as of that read, so a tag new here takes its record as is, even below the floor.
   */
  learn(tagSeqs: Record<string, TagSeq>): void {
    const floor = this.#records.floor
    let changed = false
    for (const tag in tagSeqs) {
      const seqs = tagSeqs[tag] as TagSeq
      if (this.#records.raise(tag, seqs.hard, seqs.soft, true)) changed = true
    }
    if (changed || this.#records.floor !== floor) this.generation++
  }

  /**
   * Checks tags against what is known for an entry built as of `start` (or, per tag, as of
   * `tagStarts[i]`). Hard records above a tag's start make it invalid, soft ones make it stale.
   */
  check(tags: readonly string[], start: number, tagStarts?: readonly number[]): Validity {
    let result = Validity.Valid
    for (let i = 0; i < tags.length; i++) {
      const tagStart = tagStarts === undefined ? start : (tagStarts[i] as number)
      const hard = this.#records.hard(tags[i] as string)
      if (hard === undefined) {
        // Below the floor a tag without a surviving record cannot be vouched for.
        if (tagStart < this.#records.floor) return Validity.Invalid
        continue
      }
      if (hard > tagStart) return Validity.Invalid
      if (this.#records.soft(tags[i] as string) > tagStart) result = Validity.Soft
    }
    return result
  }

  /**
   * {@link check} for an entry read from the store together with `tagSeqs`, the store's records of
   * its tags as of that read (complete: a tag without a record there reports the store's floor).
   * Judged with those, whatever this process has forgotten since (a big read's later parts may
   * push them out of the bounded records), and with anything higher known here.
   */
  checkRead(
    tags: readonly string[],
    start: number,
    tagStarts: readonly number[] | undefined,
    tagSeqs: Record<string, TagSeq>,
  ): Validity {
    let result = Validity.Valid
    for (let i = 0; i < tags.length; i++) {
      const tag = tags[i] as string
      const tagStart = tagStarts === undefined ? start : (tagStarts[i] as number)
      const read = tagSeqs[tag]
      const hard = this.#records.hard(tag)
      // Neither the read nor this process has a record: below the floor, not vouched for.
      if (read === undefined && hard === undefined) {
        if (tagStart < this.#records.floor) return Validity.Invalid
        continue
      }
      if ((read?.hard ?? -Infinity) > tagStart || (hard ?? -Infinity) > tagStart) {
        return Validity.Invalid
      }
      if ((read?.soft ?? -Infinity) > tagStart || this.#records.soft(tag) > tagStart) {
        result = Validity.Soft
      }
    }
    return result
  }

  /**
   * Whether what is known here settles `check` for these tags: each has a record, or is as of
   * the floor or later. (An older tag without a record counts as invalid — safe, but perhaps
   * only because its record was forgotten: a store that still has it can say better.)
   */
  decides(tags: readonly string[], start: number, tagStarts?: readonly number[]): boolean {
    const floor = this.#records.floor
    if (tagStarts === undefined && start >= floor) return true
    for (let i = 0; i < tags.length; i++) {
      const tagStart = tagStarts === undefined ? start : (tagStarts[i] as number)
      if (tagStart < floor && this.#records.hard(tags[i] as string) === undefined) return false
    }
    return true
  }

  /** Makes every entry take the checked path once (the trust in this registry changed). */
  touch(): void {
    this.generation++
  }

  /** Forgets everything and distrusts whatever is older than `floor` (new store epoch). */
  reset(floor: number): void {
    this.#records.reset(floor)
    this.generation++
  }
}
