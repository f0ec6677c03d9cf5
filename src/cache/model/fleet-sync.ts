import type { Bus, BusConnection, BusMessage, FleetAsked } from '../../bus/bus.js'
import type { Store, StoreAckRequest } from '../../stores/store.js'
import type { CacheEvents } from '../events.js'
import { type FleetAck, FleetAcks } from './fleet-acks.js'
import { FleetMembership } from './fleet-membership.js'
import { SingleRequest } from './single-request.js'
import type { BusStats } from '../stats.js'
import type { Sequence } from './sequence.js'

/** What the fleet sync needs from the engine (the sequence it shares, and what it applies). */
export interface FleetHost {
  /** The one owner of `epoch` (and the highest `seq` seen): read here, never copied. */
  readonly sequence: Sequence
  /** `origin`: the member id of the process that took the step. */
  applyRemote(tags: readonly string[], seq: number, stale: boolean, origin: string): void
  forgetBelow(floor: number, epoch: string, lostState: boolean): void
  trustChanged(): void
  busEvent<E extends 'bus:trusted' | 'bus:distrusted' | 'bus:sync'>(
    name: E,
    payload: CacheEvents[E],
  ): void
  reportError(error: unknown, operation: string): void
}

/** Own steps kept ahead of `through` at most (see `ownStep`). */
const AHEAD_KEPT = 256

/** Why a process stopped trusting what it holds. */
export type DistrustReason = 'start' | 'lost' | 'silence' | 'gap'

/**
 * Keeps one process's view of the fleet's invalidations complete, or knows that it is not.
 *
 * The store announces every step of its sequence on the bus, in order. This process applies
 * them and keeps `through`: every step up to it has been applied here (its own steps count at
 * once, ahead of the bus). While that is so, and the bus has been heard within `maxSilence`, the
 * process is **trusted**: its L1 may serve hits and it may judge shared-tier entries itself.
 *
 * - A gap (a step or heartbeat whose `after`, the step published before it, is above `through`:
 *   quiet steps are never published, docs/invalidation.md) is replayed from the
 *   store's log; when the log does not reach back far enough, everything older than the newest
 *   step seen is distrusted instead (the registry starts over from that floor).
 * - A lost subscription, or silence past `maxSilence`, distrusts until a heartbeat that went
 *   through the subscription shows nothing was missed (or the gap is made up).
 * - A new epoch, or a sequence that went backwards, means the store lost state: start over.
 *
 * Heartbeats: a process that reads and has heard nothing for a quarter of `maxSilence` (plus
 * jitter) asks the store to announce its `{ seq, epoch }`. Every process hears it, so a fleet
 * sends about one heartbeat per interval, not one per process.
 *
 * An idle process needs no trust until it reads: once nothing asked for it for 2 × `maxSilence`,
 * it sends no heartbeat and goes **dormant** — still trusted as far as events and stats go, but
 * its L1 serves nothing until its next read has woken it. Membership (the joins acknowledged
 * invalidations rely on), dormancy and the wake are fleet-membership.ts's.
 */
export class FleetSync {
  readonly #engine: FleetHost
  readonly #connection: BusConnection
  readonly #maxSilenceMs: number
  readonly #heartbeatMs: number
  readonly #timer: NodeJS.Timeout
  #subscribed = false
  #trusted = false
  /** In step with the bus in the sequence's epoch (false until the first message). */
  #synced = false
  /** Every step up to this one has been applied here. */
  #through = 0
  /** The highest step the bus delivered in `#epoch` (to notice a sequence going backwards). */
  #busHighest = 0
  /** Own steps applied above `#through`, waiting for the ones below them. */
  readonly #ahead = new Set<number>()
  #lastHeard: number
  /** When the timer last ran. */
  #tickedAt: number
  #nextHeartbeatAfter: number
  readonly #heartbeat: SingleRequest
  /** Messages that arrived while a gap is being replayed, in order. */
  #buffered: BusMessage[] | undefined
  #closed = false
  readonly #counts = { messages: 0, gaps: 0, replayed: 0, startOvers: 0, distrusts: 0 }
  /** Joins, dormancy and the wake. */
  readonly #membership: FleetMembership
  /** Acknowledged invalidations: this process's requests and the answers it owes. */
  readonly #acks: FleetAcks

  constructor(engine: FleetHost, bus: Bus, store: Store) {
    this.#engine = engine
    this.#maxSilenceMs = bus.maxSilenceMs
    this.#heartbeatMs = Math.max(5, Math.floor(bus.maxSilenceMs / 4))
    this.#lastHeard = Date.now()
    this.#tickedAt = this.#lastHeard
    this.#nextHeartbeatAfter = this.#jitteredHeartbeat()
    // Before connecting: the subscription may ask for a heartbeat (or an ack) as soon as it is live.
    const report = (operation: string) => (error: unknown) => engine.reportError(error, operation)
    this.#heartbeat = new SingleRequest(
      () => this.#connection.heartbeat(),
      this.#maxSilenceMs,
      report('bus:heartbeat'),
    )
    this.#membership = new FleetMembership({
      connection: () => this.#connection,
      maxSilenceMs: this.#maxSilenceMs,
      heartbeatMs: this.#heartbeatMs,
      sendHeartbeat: () => this.#sendHeartbeat(),
      trusted: () => this.#trusted,
      report: report('bus:join'),
    })
    this.#acks = new FleetAcks({
      connection: () => this.#connection,
      position: () => ({ epoch: this.#synced ? this.#epoch : undefined, through: this.#through }),
      maxSilenceMs: this.#maxSilenceMs,
      report: report('bus:ack'),
    })
    this.#connection = bus.connect(store, {
      message: (message) => this.#onMessage(message),
      subscribed: () => this.#onSubscribed(),
      lost: () => this.#distrust('lost', false),
      error: (error) => engine.reportError(error, 'bus'),
      ackRequested: (requester, seq, epoch, asked) => {
        // A request lists the members that joined lately: one that did not is not waited for.
        if (this.#membership.listed(Date.now())) this.#acks.requested(requester, seq, epoch, asked)
      },
      acked: (seq) => this.#acks.answered(seq),
    })
    this.#timer = setInterval(() => this.#tick(), this.#heartbeatMs)
    this.#timer.unref()
    this.#membership.join()
  }

  /** The epoch this process works in: the sequence's, the one place it is kept. */
  get #epoch(): string | undefined {
    return this.#engine.sequence.epoch
  }

  /**
   * The L1 may serve hits and shared-tier entries may be judged with what this process knows.
   * Checked against the clock on every call, not only by the timer: a process resuming from a
   * pause (SIGSTOP, a long block) finishes the work in hand before any timer runs, and must not
   * serve from its L1 meanwhile. Asking is also what keeps a process from going dormant.
   */
  get trusted(): boolean {
    const now = Date.now()
    const awake = this.#membership.wanted(now) // a dormant process starts waking
    if (!this.#trusted || !awake) return false
    if (now - this.#lastHeard >= this.#maxSilenceMs || this.#membership.lapsed(now)) {
      this.#distrust('silence', this.#subscribed)
      this.#sendHeartbeat()
    }
    return this.#trusted
  }

  /**
   * Waits until every other member has applied step `seq` of `epoch`, or stopped trusting its L1
   * (at most `maxSilence`); see fleet-acks.ts. `asked`: whom the request sent with the step asked
   * (else it is sent now).
   */
  acknowledged(seq: number, epoch: string, asked?: FleetAsked): Promise<FleetAck> {
    return this.#acks.wait(seq, epoch, asked)
  }

  /**
   * The acknowledgement request for the store to send with an invalidation's step, when the bus
   * has one (`asked` then comes back with the step: pass it to {@link acknowledged}).
   */
  ackRequest(): StoreAckRequest | undefined {
    return this.#connection.ackRequest?.()
  }

  /** For `stats().bus`. */
  stats(): BusStats {
    return { trusted: this.#trusted, seq: this.#through, ...this.#counts }
  }

  /**
   * Whether this process knows every invalidation up to `seq` of `epoch` — so an entry read from
   * the store together with that `{ seq, epoch }` can be judged here. Pass the last step the store
   * published when the read fetched it: the quiet steps after it touch no stored entry.
   */
  covers(seq: number, epoch: string): boolean {
    return (
      this.#trusted && !this.#membership.dormant && epoch === this.#epoch && seq <= this.#through
    )
  }

  /** This process took step `seq` of the current epoch itself and applied it already. */
  ownStep(seq: number): void {
    if (!this.#synced || seq <= this.#through) return
    if (seq === this.#through + 1) {
      this.#through = seq
      return this.#advance()
    }
    // Only a shortcut: an own step that was published comes back on the bus anyway, and a quiet
    // one is passed by the next message or heartbeat. A writer of quiet steps piles them up, so
    // few are kept (each message or heartbeat looks through them).
    if (this.#ahead.size >= AHEAD_KEPT) this.#ahead.clear()
    this.#ahead.add(seq)
  }

  /** The sequence saw the store lose its state and started over from `seq` of its new epoch. */
  storeReset(seq: number): void {
    this.#synced = true
    this.#through = seq
    this.#busHighest = 0
    this.#ahead.clear()
    this.#membership.rejoin()
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#membership.close()
    clearInterval(this.#timer)
    await this.#connection.close()
  }

  #onSubscribed(): void {
    this.#subscribed = true
    this.#lastHeard = Date.now()
    // Whatever happened while unsubscribed shows as a gap against this heartbeat.
    this.#sendHeartbeat()
  }

  #onMessage(message: BusMessage): void {
    this.#lastHeard = Date.now()
    this.#counts.messages++
    if (this.#buffered !== undefined) return void this.#buffered.push(message)
    this.#handle(message)
  }

  #handle(message: BusMessage): void {
    if (!this.#synced || message.epoch !== this.#epoch) {
      return this.#startOver(message, this.#synced)
    }
    const backwards =
      message.seq < this.#busHighest ||
      (message.kind !== 'heartbeat' && message.seq === this.#busHighest)
    if (backwards) return this.#startOver(message, true)
    this.#busHighest = message.seq
    this.#advance()
    if (message.kind === 'heartbeat') {
      if (message.after > this.#through) return void this.#recover(message)
      // Every step after the last one published was quiet: nothing up to the beat is missing.
      this.#reach(message.seq)
      this.#membership.heard(message.seq)
      return this.#trust()
    }
    if (message.seq <= this.#through) return // an own step, applied already
    if (message.after <= this.#through) {
      this.#apply(message)
      return
    }
    void this.#recover(message)
  }

  /** Applies a step that follows on from `#through` (its `after` is at or below it). */
  #apply(message: BusMessage): void {
    this.#engine.applyRemote(message.tags, message.seq, message.kind === 'soft', message.origin)
    this.#reach(message.seq)
  }

  /** Every step up to `seq` has been applied here (the quiet ones need nothing). */
  #reach(seq: number): void {
    if (seq <= this.#through) return
    this.#through = seq
    // Own steps at or below it are covered now.
    if (this.#ahead.size > 0) for (const own of this.#ahead) if (own <= seq) this.#ahead.delete(own)
    this.#advance()
  }

  #advance(): void {
    while (this.#ahead.delete(this.#through + 1)) this.#through++
    this.#acks.progressed()
  }

  /**
   * Starts over from `message`: nothing older than its sequence (or than anything this process
   * already saw in the same epoch) is vouched for any more. `lostState`: the store's epoch
   * changed or its sequence went backwards, which is reported as `store:reset`.
   */
  #startOver(message: BusMessage, lostState: boolean): void {
    const sameEpoch = message.epoch === this.#epoch
    const floor =
      sameEpoch && !lostState ? Math.max(message.seq, this.#engine.sequence.highest) : message.seq
    this.#engine.forgetBelow(floor, message.epoch, lostState)
    this.#counts.startOvers++
    this.#synced = true
    this.#through = floor
    this.#busHighest = message.seq
    this.#ahead.clear()
    if (message.kind !== 'heartbeat') {
      this.#engine.applyRemote(message.tags, message.seq, message.kind === 'soft', message.origin)
    }
    this.#acks.progressed()
    if (lostState) this.#membership.rejoin()
    this.#trust()
  }

  /** Makes up the steps between `#through` and `message` from the store's log. */
  async #recover(message: BusMessage): Promise<void> {
    this.#distrust('gap', true)
    this.#counts.gaps++
    this.#buffered = [message]
    const epoch = this.#epoch as string
    let replayed: BusMessage[] | undefined
    try {
      replayed = await this.#connection.replay(this.#through, epoch)
    } catch (error) {
      this.#engine.reportError(error, 'bus:replay')
    }
    const buffered = this.#buffered
    this.#buffered = undefined
    if (this.#closed || epoch !== this.#epoch) return
    if (replayed !== undefined && !this.#applyReplay(replayed)) replayed = undefined
    // A heartbeat vouches for the quiet steps after the last one published, once that one is here.
    if (replayed !== undefined && message.kind === 'heartbeat') {
      if (message.after <= this.#through) this.#reach(message.seq)
      else replayed = undefined
    }
    if (replayed === undefined) {
      // The log does not reach back: distrust everything up to the newest step known.
      const newest = buffered.reduce((max, m) => Math.max(max, m.seq), message.seq)
      this.#startOver({ ...message, seq: newest, kind: 'heartbeat', tags: [] }, false)
      for (const m of buffered) if (m.seq > newest) this.#handle(m)
      this.#engine.busEvent('bus:sync', { seq: this.#through, replayed: 0, startedOver: true })
      return
    }
    this.#counts.replayed += replayed.length
    this.#engine.busEvent('bus:sync', {
      seq: this.#through,
      replayed: replayed.length,
      startedOver: false,
    })
    // The log already gave what arrived meanwhile up to here (heartbeats included).
    const replayedUpTo = this.#busHighest
    for (const m of buffered) if (m.seq > replayedUpTo) this.#handle(m)
    if (this.#buffered === undefined && message.seq <= this.#through) this.#trust()
  }

  /** Applies replayed steps in order; false when they do not continue from `#through`. */
  #applyReplay(replayed: readonly BusMessage[]): boolean {
    for (const m of replayed) {
      if (m.seq <= this.#through) continue
      if (m.after > this.#through) return false
      this.#apply(m)
      this.#busHighest = Math.max(this.#busHighest, m.seq)
    }
    return true
  }

  #trust(): void {
    if (this.#trusted || !this.#subscribed || this.#closed) return
    if (this.#membership.lapsed(Date.now())) return // its join trusts once it went through
    this.#trusted = true
    this.#engine.trustChanged()
    this.#engine.busEvent('bus:trusted', { seq: this.#through })
  }

  #distrust(reason: DistrustReason, subscribed: boolean): void {
    if (!subscribed) this.#subscribed = false
    this.#membership.distrusted()
    if (!this.#trusted) return
    this.#trusted = false
    this.#counts.distrusts++
    this.#engine.trustChanged()
    this.#engine.busEvent('bus:distrusted', { reason })
  }

  #tick(): void {
    const now = Date.now()
    // The timer itself was held up (a paused or starved process): that is silence, not idleness.
    const stalled = now - this.#tickedAt >= this.#maxSilenceMs
    this.#tickedAt = now
    const turn = this.#membership.tick(now, this.#trusted, !stalled)
    // Idle: nothing is sent. Waking: its heartbeat (after its join) is on its way.
    if (turn === 'idle' || turn === 'waking') return
    if (turn === 'overdue') this.#distrust('silence', this.#subscribed)
    const quiet = now - this.#lastHeard
    if (quiet >= this.#maxSilenceMs || this.#membership.lapsed(now)) {
      this.#distrust('silence', this.#subscribed)
    }
    // Distrusted while messages flow: only a heartbeat through the subscription can show that
    // nothing was missed.
    if (quiet >= this.#nextHeartbeatAfter || !this.#trusted) this.#sendHeartbeat()
  }

  #sendHeartbeat(): void {
    if (this.#heartbeat.pending || !this.#subscribed || this.#closed) return
    this.#nextHeartbeatAfter = this.#jitteredHeartbeat()
    this.#heartbeat.send()
  }

  /** A quarter of maxSilence, plus up to as much again so a fleet does not beat in unison. */
  #jitteredHeartbeat(): number {
    return this.#heartbeatMs * (1 + Math.random())
  }
}
