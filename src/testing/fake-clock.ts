import type { Clock } from '../clock.js'

/** A clock that moves only when told to. Pass it as `createCache({ clock })`. */
export class FakeClock implements Clock {
  #now: number

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start
  }

  now(): number {
    return this.#now
  }

  /** Moves time forward by `ms`. */
  advance(ms: number): void {
    this.#now += ms
  }

  set(ms: number): void {
    this.#now = ms
  }
}

/** Creates a {@link FakeClock}. */
export function fakeClock(start?: number): FakeClock {
  return new FakeClock(start)
}
