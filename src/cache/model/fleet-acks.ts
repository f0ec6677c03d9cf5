import type { BusConnection, FleetAsked } from '../../bus/bus.js'

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
  /**
   * False when the fleet's records were lost lately (evicted while the store's state was not),
   * so members that listen may not have been asked: the request then waited the full
   * `maxSilence`, after which every member has applied the invalidation or distrusts its L1.
   */
  membersKnown: boolean
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
  /** How many members the request asked. */
  asked: number
}

/** Requests of other members this process keeps at most (a requester waits `maxSilence`). */
const MAX_OWED_ACKS = 1_000
/** Notices kept for waits not begun yet: a wait begins right after its step is recorded. */
const MAX_EARLY_NOTICES = 100

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
  /** Steps whose answers were complete before their wait began (its request went with the step). */
  readonly #early = new Set<number>()

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
   * The members answer into one list in the store, and the one that completes it tells this
   * process: one call to ask (none when the request went with the step: `asked`), one
   * notification back, one call to read who answered (a member not asked may have answered too,
   * so the count alone does not prove it).
   */
  async wait(seq: number, epoch: string, asked?: FleetAsked): Promise<FleetAck> {
    const started = Date.now()
    const wait = new AckWait(() => this.#connection().answered(seq), this.#report)
    this.#waits.set(seq, wait)
    try {
      if (asked !== undefined) {
        wait.expect(asked)
        // A request sent with its step may be answered before this wait began.
        if (this.#early.delete(seq)) wait.noticed()
      } else {
        try {
          wait.expect(await this.#connection().requestAcks(seq, epoch))
        } catch (error) {
          this.#report(error)
        }
      }
      await wait.settled(Math.max(0, started + this.#maxSilenceMs - Date.now()))
      if (!wait.done && wait.asking) await wait.read()
    } finally {
      this.#waits.delete(seq)
    }
    return { ...wait.result(), waitedMs: Date.now() - started }
  }

  /** As many members as were asked for step `seq` (this process's request) answered. */
  answered(seq: number): void {
    const wait = this.#waits.get(seq)
    if (wait !== undefined) return wait.noticed()
    // Kept for the wait about to begin (a notice for no request of this process costs one read).
    if (this.#early.size >= MAX_EARLY_NOTICES) this.#early.clear()
    this.#early.add(seq)
  }

  /** Another member waits for this process to apply step `seq` of `epoch`. */
  requested(requester: string, seq: number, epoch: string, asked: number): void {
    if (this.#owed.length >= MAX_OWED_ACKS) this.#owed.shift() // it stopped waiting long ago
    this.#owed.push({ requester, seq, epoch, asked })
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
        .ack(owed.requester, owed.seq, owed.asked)
        .catch((error: unknown) => this.#report(error))
    }
    this.#owed = still
  }
}

/** One process's wait for the acknowledgements of its step. */
class AckWait {
  readonly #read: () => Promise<string[]>
  readonly #report: (error: unknown) => void
  /** Members asked; undefined until the request went out. */
  #asked: readonly string[] | undefined
  /** The records could say who listens (see `FleetAck.membersKnown`). */
  #sure = true
  /** The members that answered, as last read from the store. */
  #answered: ReadonlySet<string> = new Set()
  /** A notice came that has not been checked yet (it may come before the list of members). */
  #noticed = false
  #reading: Promise<void> | undefined
  #wake: (() => void) | undefined

  constructor(read: () => Promise<string[]>, report: (error: unknown) => void) {
    this.#read = read
    this.#report = report
  }

  get done(): boolean {
    return this.#done()
  }

  expect({ asked, sure }: FleetAsked): void {
    this.#asked = asked
    this.#sure = sure
    this.#check()
  }

  noticed(): void {
    this.#noticed = true
    this.#check()
  }

  /** Whether anyone was asked (only then is there anything to read). */
  get asking(): boolean {
    return (this.#asked?.length ?? 0) > 0
  }

  /** Reads who answered (one read at a time; a notice during one reads again after it). */
  read(): Promise<void> {
    this.#reading ??= this.#readUntilCurrent().finally(() => {
      this.#reading = undefined
      this.#check()
    })
    return this.#reading
  }

  async #readUntilCurrent(): Promise<void> {
    do {
      this.#noticed = false
      try {
        this.#answered = new Set(await this.#read())
      } catch (error) {
        this.#report(error)
      }
    } while (this.#noticed)
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
    const applied = asked.filter((member) => this.#answered.has(member))
    const late = asked.filter((member) => !this.#answered.has(member))
    return { members: asked.length, acked: applied.length, applied, late, membersKnown: this.#sure }
  }

  #done(): boolean {
    return (
      this.#asked !== undefined &&
      this.#sure &&
      this.#asked.every((member) => this.#answered.has(member))
    )
  }

  #check(): void {
    if (this.#asked !== undefined && this.#noticed && this.#reading === undefined) {
      void this.read()
      return
    }
    if (this.#wake !== undefined && this.#done()) this.#wake()
  }
}
