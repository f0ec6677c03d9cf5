import type { Bus, BusHandlers, BusMessage } from '../../src/bus/bus.js'
import type { Store } from '../../src/stores/store.js'

/** Controls of a {@link gatedBus}. */
export interface BusGate {
  /** Holds every message (heartbeats too) until `release()`: a silent bus. */
  hold(): void
  /** Delivers what was held, in order, and lets messages through again. */
  release(): void
  /** Drops the next `count` steps (not heartbeats) on the floor: a lost message. */
  dropNextSteps(count?: number): void
  /** Every message delivered so far. */
  readonly delivered: readonly BusMessage[]
  /** Resolves once a delivered message matches (checked against earlier ones too). */
  until(match: (message: BusMessage) => boolean): Promise<BusMessage>
}

/**
 * A real bus with a gate between it and the cache, for failure tests: messages can be held
 * (silence) or dropped (a gap) on their way in. Everything else is the real transport.
 */
export function gatedBus(inner: Bus): Bus & { gate: BusGate } {
  const delivered: BusMessage[] = []
  const held: BusMessage[] = []
  const waiters: { match: (m: BusMessage) => boolean; resolve: (m: BusMessage) => void }[] = []
  let holding = false
  let drop = 0
  let handlers: BusHandlers | undefined

  const deliver = (message: BusMessage) => {
    delivered.push(message)
    handlers?.message(message)
    for (const waiter of [...waiters]) {
      if (!waiter.match(message)) continue
      waiters.splice(waiters.indexOf(waiter), 1)
      waiter.resolve(message)
    }
  }

  const gate: BusGate = {
    hold: () => void (holding = true),
    release: () => {
      holding = false
      for (const message of held.splice(0)) deliver(message)
    },
    dropNextSteps: (count = 1) => void (drop += count),
    delivered,
    until: (match) => {
      const seen = delivered.find(match)
      if (seen !== undefined) return Promise.resolve(seen)
      return new Promise((resolve) => waiters.push({ match, resolve }))
    },
  }

  return {
    name: `gated(${inner.name})`,
    maxSilenceMs: inner.maxSilenceMs,
    gate,
    connect(store: Store, real: BusHandlers) {
      handlers = real
      return inner.connect(store, {
        ...real,
        message: (message) => {
          if (drop > 0 && message.kind !== 'heartbeat') {
            drop--
            return
          }
          if (holding) held.push(message)
          else deliver(message)
        },
      })
    },
  }
}
