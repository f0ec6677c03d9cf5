/**
 * What a worker's cache went through, as evidence for a forbidden stale read: the bus and store
 * events of the last moments (trusted, distrusted, syncs, applied invalidations, store resets,
 * circuit changes, errors) and the times the event loop did not run (a pause, a starved
 * process), on the run's shared clock. Bounded: the oldest events make room.
 */
import type { Cache } from '../../src/index.js'
import type { SharedClock } from './clock.js'

export interface TimelineEvent {
  /** Shared clock, ms since the run's epoch (the report shows them since reads began). */
  at: number
  what: string
}

const CAPACITY = 50_000
/** The loop is checked this often; a gap of more than GAP_MS between checks is recorded. */
const CHECK_MS = 10
const GAP_MS = 100

export class Timeline {
  readonly #clock: SharedClock
  readonly #events: TimelineEvent[] = []
  #timer: NodeJS.Timeout | undefined

  constructor(clock: SharedClock) {
    this.#clock = clock
  }

  add(what: string): void {
    if (this.#events.length >= CAPACITY) this.#events.splice(0, CAPACITY / 10)
    this.#events.push({ at: this.#clock.now(), what })
  }

  /** The events from `from` to `to` (shared clock). */
  between(from: number, to: number): TimelineEvent[] {
    return this.#events.filter((e) => e.at >= from && e.at <= to)
  }

  /** Records the cache's bus and store events, and the gaps of the event loop. */
  follow(cache: Cache): void {
    cache.on('bus:trusted', ({ seq }) => this.add(`bus:trusted through ${seq}`))
    cache.on('bus:distrusted', ({ reason }) => this.add(`bus:distrusted (${reason})`))
    cache.on('bus:sync', ({ seq, replayed, startedOver }) =>
      this.add(`bus:sync to ${seq}: ${replayed} replayed${startedOver ? ', started over' : ''}`),
    )
    cache.on('bus:invalidate', ({ seq, tags }) =>
      this.add(`bus:invalidate seq ${seq} ${tags.join(' ')}`),
    )
    cache.on('store:reset', ({ seq, epoch }) => this.add(`store:reset epoch ${epoch} at ${seq}`))
    cache.on('store:circuit', ({ state }) => this.add(`store:circuit ${state}`))
    cache.on('error', ({ operation, error }) =>
      this.add(`error ${operation}: ${error instanceof Error ? error.message : String(error)}`),
    )
    let last = this.#clock.now()
    this.#timer = setInterval(() => {
      const now = this.#clock.now()
      if (now - last > GAP_MS) {
        this.add(`event loop: first timer after ${(now - last).toFixed(0)} ms without one`)
      }
      last = now
    }, CHECK_MS)
    this.#timer.unref()
  }

  close(): void {
    clearInterval(this.#timer)
  }
}
