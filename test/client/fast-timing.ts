import type { Timing } from '../../src/client/timing.js'

/**
 * The client's clock running `factor` times faster than the wall clock: its timers fire early
 * by that factor and `now()` advances that much faster, so a 30 s outage as the client sees it
 * takes 30 / factor real seconds. `random` pins the jitter when given.
 */
export function fastTiming(factor: number, random: () => number = Math.random): Timing {
  const origin = performance.now()
  return {
    now: () => origin + (performance.now() - origin) * factor,
    setTimeout: (callback, ms) => setTimeout(callback, ms / factor),
    random,
  }
}
