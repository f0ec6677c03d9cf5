/**
 * The one owner of this process's place in the store's sequence: the `epoch` it works in and the
 * highest `seq` it has seen there (docs/invalidation.md, "What is stored"). A cache without a
 * store numbers its own invalidations here too, seeded from the clock like the stores.
 *
 * Everything else (the bus's position, the L1, the registry) reads the epoch from here and is told
 * when it changes: a new epoch, or a sequence that went backwards, means the store lost its state.
 */
export interface SequenceHooks {
  /** The store lost its state: start over from `seq` of `epoch` (drop L1, reset the registry). */
  lost(seq: number, epoch: string): void
  /** Reads the store's `{ seq, epoch }` afresh; undefined when it cannot be reached. */
  current(): Promise<{ seq: number; epoch: string } | undefined>
}

export class Sequence {
  #epoch: string | undefined
  #highest = 0
  #local: number
  #verifying: Promise<void> | undefined
  readonly #hooks: SequenceHooks

  /** `nowMs`: the clock, to seed the local counter above anything handed out before. */
  constructor(nowMs: number, hooks: SequenceHooks) {
    this.#local = Math.floor(nowMs * 1000)
    this.#hooks = hooks
  }

  /** The store epoch this process works in (undefined before the first store answer). */
  get epoch(): string | undefined {
    return this.#epoch
  }

  /** The highest store sequence this process has seen in `epoch`. */
  get highest(): number {
    return this.#highest
  }

  /** The local counter's current value (caches without a store). */
  get local(): number {
    return this.#local
  }

  /** Takes the next local sequence. */
  nextLocal(): number {
    return ++this.#local
  }

  /**
   * Checks a store answer's `{ seq, epoch }`. A new epoch means the store lost its state. A lower
   * sequence than one seen before may only be an older reply handled late (replies travel through
   * promise chains of different lengths), so it is verified with a fresh read first: only a store
   * whose current sequence is below what it already reported went backwards (a restored snapshot).
   */
  observe(seq: number, epoch: string): void {
    if (this.#epoch === undefined) {
      this.#epoch = epoch
    } else if (epoch !== this.#epoch) {
      return this.#lost(seq, epoch)
    } else if (seq < this.#highest) {
      return void this.#verifyBackwards()
    }
    if (seq > this.#highest) this.#highest = seq
  }

  /**
   * Starts over at `floor` of `epoch` (the bus saw a new epoch or a gap it could not fill).
   * `lostState`: the store lost its state, so `floor` replaces what was seen; else it only raises it.
   */
  startOver(floor: number, epoch: string, lostState: boolean): void {
    this.#epoch = epoch
    this.#highest = lostState ? floor : Math.max(floor, this.#highest)
  }

  #lost(seq: number, epoch: string): void {
    this.#epoch = epoch
    this.#highest = seq
    this.#hooks.lost(seq, epoch)
  }

  /** Reads the store's state again; a request sent now answers after everything seen so far. */
  #verifyBackwards(): Promise<void> {
    this.#verifying ??= (async () => {
      const highest = this.#highest
      const epoch = this.#epoch
      try {
        const now = await this.#hooks.current()
        if (now === undefined) return
        if (now.epoch !== this.#epoch || (epoch === now.epoch && now.seq < highest)) {
          this.#lost(now.seq, now.epoch)
        }
      } finally {
        this.#verifying = undefined
      }
    })()
    return this.#verifying
  }
}
