/**
 * The client's sense of time and chance, in one place so tests can run a 30 s outage in a few
 * seconds (a faster clock) or pin the jitter; applications always get {@link systemTiming}.
 */
export interface Timing {
  /** Milliseconds, monotonic. */
  now(): number
  /** A one-shot timer; the client unrefs it while nobody awaits `flush()`. */
  setTimeout(callback: () => void, ms: number): { ref(): unknown; unref(): unknown }
  /** Uniform in [0, 1): the jitter. */
  random(): number
}

export const systemTiming: Timing = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  random: () => Math.random(),
}
