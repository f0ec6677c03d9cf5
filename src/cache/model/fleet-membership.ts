import { type BusConnection, MEMBER_IDLE_RENEW_MS, MEMBER_LISTED_SILENCES } from '../../bus/bus.js'
import { SingleRequest } from './single-request.js'

/** A reading member renews its record every this many `maxSilence`s. */
const RENEW_SILENCES = 5
/** It trusts its L1 only this many `maxSilence`s after its last join (requests list it longer). */
const TRUST_SILENCES = 10

/**
 * One process's membership of the fleet, and its dormancy: when it joins (says it is alive, so
 * acknowledgement requests list it), and whether an idle process's L1 may serve again.
 *
 * - A record renewed every {@link RENEW_SILENCES} `maxSilence`s while the process reads; it trusts
 *   only within {@link TRUST_SILENCES} of its last join, and requests list a member for
 *   `MEMBER_LISTED_SILENCES` after it (bus.ts).
 * - Once nothing asked for trust for 2 × `maxSilence`, the process is **dormant**: it renews its
 *   record once a minute only, and its L1 serves nothing until a read woke it — a join when its
 *   record may have lapsed (a request made meanwhile did not list it), then one heartbeat taken
 *   after that join, through its subscription, showing that no step was missed.
 * - When the store lost its state the records went with it: the process joins again, and its L1
 *   serves nothing before that join and a heartbeat after it, as on a wake.
 *
 * Trust itself is the fleet sync's (fleet-sync.ts); this says when joins lapse and when a wake
 * is over.
 */
export class FleetMembership {
  readonly #maxSilenceMs: number
  /** A wake whose heartbeat has not come back this long after it distrusts. */
  readonly #wakeWithinMs: number
  readonly #renewMs: number
  readonly #trustJoinMs: number
  readonly #listedMs: number
  readonly #sendHeartbeat: () => void
  readonly #trusted: () => boolean
  readonly #joining: SingleRequest
  /** When the last successful `join` was sent: a member that cannot say it is alive distrusts. */
  #joinedAt = -Infinity
  /** The store's sequence at the last join (every step a later request waits for is above). */
  #joinSeq: number | undefined
  /** When a read last asked whether the L1 may serve: an idle process sends nothing. */
  #wantedAt: number
  /** Idle: trusted, but nothing vouched for it lately; the next read wakes it. */
  #dormant = false
  /** When a read woke the dormant process (undefined: not waking). */
  #wokeAt: number | undefined
  /** The lowest heartbeat that ends the wake (undefined until its join, if any, went through). */
  #wakeFloor: number | undefined
  #closed = false

  constructor(options: {
    connection: () => BusConnection
    maxSilenceMs: number
    /** A quarter of `maxSilence`: how long a wake's heartbeat may take. */
    heartbeatMs: number
    sendHeartbeat: () => void
    trusted: () => boolean
    report: (error: unknown) => void
  }) {
    const maxSilenceMs = options.maxSilenceMs
    this.#maxSilenceMs = maxSilenceMs
    this.#wakeWithinMs = options.heartbeatMs
    this.#renewMs = maxSilenceMs * RENEW_SILENCES
    this.#trustJoinMs = maxSilenceMs * TRUST_SILENCES
    // Requests list a member this long after its join, by the store's clock; one more maxSilence
    // for the round trip and the clocks.
    this.#listedMs = maxSilenceMs * (MEMBER_LISTED_SILENCES + 1)
    this.#sendHeartbeat = options.sendHeartbeat
    this.#trusted = options.trusted
    this.#wantedAt = Date.now()
    this.#joining = new SingleRequest(
      () =>
        options
          .connection()
          .join()
          .then((seq) => void (this.#joinSeq = seq)),
      maxSilenceMs,
      options.report,
    )
  }

  get dormant(): boolean {
    return this.#dormant
  }

  /** Requests made now list this process (it answers them). */
  listed(now: number): boolean {
    return now - this.#joinedAt < this.#listedMs
  }

  /** Its last join is too old for its L1 to be trusted: requests may soon stop listing it. */
  lapsed(now: number): boolean {
    return now - this.#joinedAt >= this.#trustJoinMs
  }

  /**
   * A read asks whether the L1 may serve (that keeps the process from going dormant). False when
   * it is dormant: the read starts the wake, and the L1 serves nothing until it is over.
   */
  wanted(now: number): boolean {
    this.#wantedAt = now
    if (!this.#dormant) return true
    this.#wake(now)
    return false
  }

  /** A heartbeat at `seq` came through the subscription, and nothing was missed up to it. */
  heard(seq: number): void {
    if (this.#dormant && this.#wakeFloor !== undefined && seq >= this.#wakeFloor) {
      this.#dormant = false
      this.#wokeAt = undefined
    }
  }

  /** Trust was lost: a distrusted process is not dormant (it asks until it trusts again). */
  distrusted(): void {
    this.#dormant = false
    this.#wokeAt = undefined
  }

  /**
   * The timer's turn. `idle`: trusted, running on time, and no read asked for 2 × `maxSilence`
   * — the process goes dormant and sends nothing but a join a minute (its record says it listens:
   * `cache.members()`, `heard_by`). Returns whether the fleet sync should check its silence now;
   * `overdue` when a wake's heartbeat has not come back in time (a distrust).
   */
  tick(now: number, trusted: boolean, onTime: boolean): 'idle' | 'waking' | 'overdue' | 'active' {
    if (trusted && onTime && now - this.#wantedAt >= this.#maxSilenceMs * 2) {
      // After twice maxSilence: a bus that went silent while the process read is a distrust. A
      // process that is not trusted keeps asking, as a broken bus is not idleness.
      this.#dormant = true
      if (now - this.#joinedAt >= MEMBER_IDLE_RENEW_MS) this.join()
      return 'idle'
    }
    if (now - this.#joinedAt >= this.#renewMs) this.join()
    if (!this.#dormant) return 'active'
    return this.#wokeAt !== undefined && now - this.#wokeAt >= this.#wakeWithinMs
      ? 'overdue'
      : 'waking'
  }

  /**
   * The store lost its state, the member records with it: until this process joined again a
   * request would not wait for it, so its L1 (just dropped) serves nothing before that join and a
   * heartbeat after it — as on a wake.
   */
  rejoin(): void {
    if (this.#trusted()) {
      this.#dormant = true
      this.#wokeAt = Date.now()
      this.#wakeFloor = undefined
    } else {
      this.#joinedAt = -Infinity // trust waits for the join
    }
    this.join()
  }

  /**
   * Says this process is alive (at the start, every {@link RENEW_SILENCES} `maxSilence`s while it
   * reads, and on waking); a first success, or one after failures, may trust.
   */
  join(): void {
    if (this.#joining.pending || this.#closed) return
    const sentAt = Date.now()
    this.#joining.send(() => {
      const wasStale = sentAt - this.#joinedAt >= this.#trustJoinMs
      this.#joinedAt = Math.max(this.#joinedAt, sentAt)
      if (this.#wokeAt !== undefined && this.#wakeFloor === undefined) {
        this.#wakeFloor = this.#joinSeq ?? 0
        this.#sendHeartbeat()
      } else if (wasStale && !this.#trusted()) {
        // Trust waits for a heartbeat through the subscription, as after any distrust.
        this.#sendHeartbeat()
      }
    })
  }

  close(): void {
    this.#closed = true
  }

  /**
   * A read found the process dormant: it joins first when its record may have lapsed (a request
   * made meanwhile did not list it, so only a heartbeat taken after the join shows it has every
   * step such a request waited for), then asks for a heartbeat.
   */
  #wake(now: number): void {
    if (this.#wokeAt !== undefined) return
    this.#wokeAt = now
    if (now - this.#joinedAt < this.#renewMs) {
      this.#wakeFloor = 0
      this.#sendHeartbeat()
    } else {
      this.#wakeFloor = undefined
      this.join()
    }
  }
}
