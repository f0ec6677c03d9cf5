/** Thrown by a stopped {@link Retry}: the listener is closing. */
export class Stopped extends Error {
  constructor() {
    super('cachegraph: the PostgreSQL listener is closed')
  }
}

/**
 * Tries an operation until it succeeds, waiting 50 ms, then twice as long each time (at most
 * `maxDelayMs`). `stop()` ends every wait at once; waits are `unref()`'d.
 */
export class Retry {
  readonly #maxDelayMs: number
  #stopped = false
  readonly #wakers = new Set<() => void>()

  constructor(maxDelayMs: number) {
    this.#maxDelayMs = maxDelayMs
  }

  get stopped(): boolean {
    return this.#stopped
  }

  stop(): void {
    this.#stopped = true
    for (const wake of this.#wakers) wake()
  }

  async until<T>(attempt: () => Promise<T>, onError: (error: unknown) => void): Promise<T> {
    for (let delay = 50; ; delay = Math.min(delay * 2, this.#maxDelayMs)) {
      if (this.#stopped) throw new Stopped()
      try {
        return await attempt()
      } catch (error) {
        if (this.#stopped) throw new Stopped()
        onError(error)
      }
      await this.sleep(delay)
    }
  }

  /** Waits `ms`, or less if stopped. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.#wakers.delete(done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      timer.unref()
      this.#wakers.add(done)
      if (this.#stopped) done()
    })
  }
}
