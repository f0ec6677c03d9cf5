/**
 * A background request to the store that is sent at most one at a time (a store that is slow
 * must not pile them up), stops counting as pending after `giveUpMs` (a store that never answers
 * must not stop them for good), and reports its failures once per outage, not once per try.
 */
export class SingleRequest {
  readonly #send: () => Promise<void>
  readonly #giveUpMs: number
  readonly #report: (error: unknown) => void
  #pending = false
  #failing = false

  constructor(send: () => Promise<void>, giveUpMs: number, report: (error: unknown) => void) {
    this.#send = send
    this.#giveUpMs = giveUpMs
    this.#report = report
  }

  get pending(): boolean {
    return this.#pending
  }

  /** Sends the request unless one is pending; `done` runs after a success. */
  send(done?: () => void): void {
    if (this.#pending) return
    this.#pending = true
    const giveUp = setTimeout(() => (this.#pending = false), this.#giveUpMs)
    giveUp.unref()
    this.#send().then(
      () => {
        clearTimeout(giveUp)
        this.#pending = false
        this.#failing = false
        done?.()
      },
      (error: unknown) => {
        clearTimeout(giveUp)
        this.#pending = false
        if (!this.#failing) this.#report(error)
        this.#failing = true
      },
    )
  }
}
