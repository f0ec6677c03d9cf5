/**
 * One clock for every process of a run. `process.hrtime` reads CLOCK_MONOTONIC, which on one
 * host is the same for all processes, so a time stamped in a writer and one stamped in a reader
 * can be compared directly. The coordinator picks the epoch; times are milliseconds since it.
 * (`Date.now()` could step under NTP; `performance.timeOrigin` is taken per process from the
 * wall clock and may differ between processes by that much.)
 */
export interface SharedClock {
  /** Milliseconds since the run's epoch, sub-millisecond precision. */
  now(): number
}

/** The epoch of a new run, to hand to every worker. */
export const newEpoch = (): string => process.hrtime.bigint().toString()

export function sharedClock(epoch: string): SharedClock {
  const origin = BigInt(epoch)
  return { now: () => Number(process.hrtime.bigint() - origin) / 1e6 }
}
