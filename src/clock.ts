/** The source of time. Injected so tests can drive expiry without sleeping. */
export interface Clock {
  /** Milliseconds since the epoch, like `Date.now()`. */
  now(): number
}

/** The wall clock. */
export const systemClock: Clock = { now: Date.now }
