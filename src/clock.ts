/** The source of time. Injected so tests can drive expiry without sleeping. */
export interface Clock {
  /** Milliseconds since the epoch, like `Date.now()`. */
  now(): number
}

/** How many reads may share one `Date.now()` within a run of microtasks. */
const READS_PER_TICK = 64

let cachedNow = 0
let reads = 0
let resetPending = false

function forget(): void {
  cachedNow = 0
  resetPending = false
}

/**
 * The wall clock, read cheaply: a value is reused by at most 64 consecutive reads and never past
 * the next turn of the event loop that lets a 1 ms timer fire, so it lags real time by at most
 * about a millisecond or 64 cache operations (the hit path is otherwise dominated by `Date.now()`).
 */
export const systemClock: Clock = {
  now() {
    if (cachedNow !== 0 && ++reads < READS_PER_TICK) return cachedNow
    reads = 0
    cachedNow = Date.now()
    if (!resetPending) {
      resetPending = true
      setTimeout(forget, 1).unref()
    }
    return cachedNow
  },
}
