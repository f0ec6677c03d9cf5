import type { BusConnection } from '../../bus/bus.js'

/** How the fleet acknowledged one invalidation (`invalidate(tags, { ack: true })`). */
export interface FleetAck {
  /** Other members alive when the request went out (processes with a bus on the same store). */
  members: number
  /** Those that answered: they had applied the invalidation. */
  acked: number
  /** The members that answered, by name (the bus's member ids). */
  applied: readonly string[]
  /**
   * Those that did not answer within `maxSilence`. Each one has stopped trusting its L1 by then
   * (it could not hear the bus, or was paused, or is gone), so none serves the old value either.
   */
  late: readonly string[]
  /** How long the wait took, in ms. */
  waitedMs: number
}

/** Where this process stands: every step up to `through` of `epoch` is applied here. */
export interface FleetPosition {
  epoch: string | undefined
  through: number
}

interface OwedAck {
  requester: string
  seq: number
  epoch: string
}

/** Requests of other members this process keeps at most (a requester waits `maxSilence`). */
const MAX_OWED_ACKS = 1_000

/**
 * Acknowledged invalidations, both ways: this process's own requests (wait until every other
 * member has applied a step, at most `maxSilence`), and the answers it owes other members once
 * it has applied theirs. The membership itself, and trust, are the fleet sync's.
 */
export class FleetAcks {
  readonly #connection: () => BusConnection
  readonly #position: () => FleetPosition
  readonly #maxSilenceMs: number
  readonly #report: (error: unknown) => void
  /** Requests of other members for steps this process has not applied yet. */
  #owed: OwedAck[] = []
  /** This process's own requests, by step. */
  readonly #waits = new Map<number, AckWait>()

  constructor(options: {
    connection: () => BusConnection
    position: () => FleetPosition
    maxSilenceMs: number
    report: (error: unknown) => void
  }) {
    this.#connection = options.connection
    this.#position = options.position
    this.#maxSilenceMs = options.maxSilenceMs
    this.#report = options.report
  }

  /**
   * Waits until every other member has applied step `seq` of `epoch` (this process applied it
   * already), or `maxSilence` has passed — by then a member that did not answer has stopped
   * trusting its L1. Never rejects: a request that cannot go out waits the full time.
   *
   * The members answer into one record in the store, and the last one tells this process: one
   * call to ask, one notification back, and one more call only when someone did not answer.
   */
  async wait(seq: number, epoch: string): Promise<FleetAck> {
    const started = Date.now()
    const wait = new AckWait()
    this.#waits.set(seq, wait)
    try {
      try {
        wait.expect(await this.#connection().requestAcks(seq, epoch))
      } catch (error) {
        this.#report(error)
      }
      await wait.settled(Math.max(0, started + this.#maxSilenceMs - Date.now()))
      if (!wait.done) await this.#late(wait, seq)
    } finally {
      this.#waits.delete(seq)
    }
    return { ...wait.result(), waitedMs: Date.now() - started }
  }

  /** Every member asked for step `seq` answered (this process's request). */
  answered(seq: number): void {
    this.#waits.get(seq)?.answerAll()
  }

  /** Asks the store who did not answer; when it cannot say, every member asked counts as late. */
  async #late(wait: AckWait, seq: number): Promise<void> {
    if (wait.asked.length === 0) return
    try {
      wait.unanswered(await this.#connection().unanswered(seq))
    } catch (error) {
      this.#report(error)
    }
  }

  /** Another member waits for this process to apply step `seq` of `epoch`. */
  requested(requester: string, seq: number, epoch: string): void {
    if (this.#owed.length >= MAX_OWED_ACKS) this.#owed.shift() // it stopped waiting long ago
    this.#owed.push({ requester, seq, epoch })
    this.progressed()
  }

  /**
   * This process applied more steps: answers the requests it now can. A request of another
   * epoch is answered once this process has moved to that epoch (its L1 was dropped on the way)
   * and reached the step.
   */
  progressed(): void {
    if (this.#owed.length === 0) return
    const { epoch, through } = this.#position()
    const still: OwedAck[] = []
    for (const owed of this.#owed) {
      if (owed.epoch !== epoch || owed.seq > through) {
        still.push(owed)
        continue
      }
      this.#connection()
        .ack(owed.requester, owed.seq)
        .catch((error: unknown) => this.#report(error))
    }
    this.#owed = still
  }
}

/** One process's wait for the acknowledgements of its step. */
class AckWait {
  /** Members asked; undefined until the request went out. */
  #asked: readonly string[] | undefined
  /** Every member asked answered (the notice may come before the list of members does). */
  #all = false
  /** The members that did not answer, once the store said so; undefined: all that were asked. */
  #unanswered: ReadonlySet<string> | undefined
  #wake: (() => void) | undefined

  get asked(): readonly string[] {
    return this.#asked ?? []
  }

  get done(): boolean {
    return this.#done()
  }

  expect(members: readonly string[]): void {
    this.#asked = members
    this.#check()
  }

  answerAll(): void {
    this.#all = true
    this.#check()
  }

  unanswered(members: readonly string[]): void {
    this.#unanswered = new Set(members)
  }

  /** Resolves once every member asked has answered, or after `ms`. */
  settled(ms: number): Promise<void> {
    if (this.#done()) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms)
      this.#wake = () => (clearTimeout(timer), resolve())
    })
  }

  result(): Omit<FleetAck, 'waitedMs'> {
    const asked = this.#asked ?? []
    const answered = (member: string) =>
      this.#done() || (this.#unanswered !== undefined && !this.#unanswered.has(member))
    const late = asked.filter((member) => !answered(member))
    const isLate = new Set(late)
    const applied = asked.filter((member) => !isLate.has(member))
    return { members: asked.length, acked: applied.length, applied, late }
  }

  #done(): boolean {
    return this.#asked !== undefined && (this.#all || this.#asked.length === 0)
  }

  #check(): void {
    if (this.#wake !== undefined && this.#done()) this.#wake()
  }
}
