import type { TagSeq } from '../../stores/store.js'
import { bucketCount } from '../../util/name-hash.js'
import { SeqRecords } from '../../util/seq-records.js'
import { SeqSketch } from '../../util/seq-sketch.js'
import { isKeyTag } from './namespace.js'

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
 * `generation` moves whenever a record changes, so an L1 entry checked at the current generation
 * needs no tag loop (the O(1) hit path). The records are bounded: forgetting some raises `floor`,
 * and a tag without a record counts as invalidated at `floor` — an entry older than a forgotten
 * record is distrusted, never revived.
 *
 * **Steps of the fleet that cannot touch the L1.** Every superseding `set` anywhere in the fleet
 * reaches every process as a step on that key's tag. Most name keys this process holds no entry
 * for; recording each would fill the records (raising the floor under a write-heavy fleet, which
 * distrusts the whole L1 after `maxTags` of them) and cost every process a record per write. So a
 * step from the bus on a key tag that no L1 entry carries ({@link apply}'s `held`) is not
 * recorded: its sequence raises that tag's bucket in a fixed-size sketch instead, and `revision`
 * moves but `generation` does not — no L1 entry is affected. What is not in the L1 yet is judged
 * with the sketch too ({@link checkNew}, {@link decides}): an entry about to enter the L1, a load
 * a caller may join, an entry read from the shared tier. A bucket raised by another key of the
 * same bucket is a false alarm, which sends the entry to the store's exact check or keeps it out
 * of the L1, never a stale read.
 */
export class TagRegistry {
  readonly #records: SeqRecords
  /** Key tags of steps not recorded (no L1 entry carried them), by bucket. */
  readonly #skipped: SeqSketch
  /** Bumped when a record changes; L1 entries remember the generation they were last checked at. */
  generation = 0
  /**
   * Bumped on every change, records or sketch: for what is not in the L1 (a load in flight).
   * Never behind `generation`'s moves.
   */
  revision = 0

  constructor(maxTags: number) {
    this.#records = new SeqRecords(maxTags)
    // About one bucket per record the records could hold (an older entry outlives the steps of
    // other keys about as long as it would outlive the floor), at most 512 KB.
    this.#skipped = new SeqSketch(bucketCount(maxTags, 1 << 16))
  }

  get size(): number {
    return this.#records.size
  }

  /**
   * Records an invalidation of `tags` at `seq`. `held`, for a step heard from the fleet: whether
   * an L1 entry may carry a key tag; a hard step on a key tag none carries goes to the sketch.
   */
  apply(
    tags: readonly string[],
    seq: number,
    stale: boolean,
    held?: (keyTag: string) => boolean,
  ): void {
    const floor = this.#records.floor
    let changed = false
    let sketched = false
    for (const tag of tags) {
      // A tag with a record keeps being recorded (the writer's own steps, as the bus repeats them).
      if (
        held !== undefined &&
        !stale &&
        this.#records.hard(tag) === undefined &&
        isKeyTag(tag) &&
        !held(tag)
      ) {
        this.#skipped.raise(tag, seq)
        sketched = true
      } else if (this.#records.raise(tag, stale ? -1 : seq, stale ? seq : -1)) changed = true
    }
    if (changed || this.#records.floor !== floor) this.generation++
    if (changed || sketched || this.#records.floor !== floor) this.revision++
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
    if (changed || this.#records.floor !== floor) this.#changed()
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
   * {@link check} for an entry not in the L1 (yet): one about to be put there, a load's result, a
   * shared-tier entry. Its key tags are also judged by the sketch of steps not recorded: one whose
   * bucket moved past its start may have been superseded.
   */
  checkNew(tags: readonly string[], start: number, tagStarts?: readonly number[]): Validity {
    const validity = this.check(tags, start, tagStarts)
    if (validity === Validity.Invalid || this.#skipped.empty) return validity
    return this.#sketchAbove(tags, start, tagStarts) ? Validity.Invalid : validity
  }

  /** Whether the sketch has a key tag of these above its start. */
  #sketchAbove(tags: readonly string[], start: number, tagStarts?: readonly number[]): boolean {
    for (let i = 0; i < tags.length; i++) {
      const tag = tags[i] as string
      const tagStart = tagStarts === undefined ? start : (tagStarts[i] as number)
      if (isKeyTag(tag) && this.#skipped.get(tag) > tagStart) return true
    }
    return false
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
    // A key tag's bucket past its start: perhaps only another key's step (the store knows).
    if (!this.#skipped.empty && this.#sketchAbove(tags, start, tagStarts)) {
      return (
        this.check(tags, start, tagStarts) === Validity.Invalid &&
        this.#recordsDecide(tags, start, tagStarts)
      )
    }
    return this.#recordsDecide(tags, start, tagStarts)
  }

  #recordsDecide(tags: readonly string[], start: number, tagStarts?: readonly number[]): boolean {
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
    this.#changed()
  }

  /** Forgets everything and distrusts whatever is older than `floor` (new store epoch). */
  reset(floor: number): void {
    this.#records.reset(floor)
    // The floor is above everything the sketch held.
    this.#skipped.reset()
    this.#changed()
  }

  #changed(): void {
    this.generation++
    this.revision++
  }
}
