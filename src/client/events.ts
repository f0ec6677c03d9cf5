import type { OutgoingInvalidation } from '../protocol/invalidation.js'

/** One invalidation waiting to go out: an entity (sent in the seed's body) or a tag. */
export type Invalidation = OutgoingInvalidation

/** Events of an {@link InvalidationClient}. */
export interface ClientEvents {
  /**
   * The service accepted a request. `body` is its answer, parsed when it is JSON (the cachegraph
   * service's `{ status, seq, tags, keys }`: `seq` is the step the invalidation took, which every
   * process's cache has applied once its `stats().bus.seq` reaches it), else the raw text.
   * `heardBy`: how many processes listen on the service's store and bus and so heard it, when
   * the service says (`0`: none did — the service is likely on another Redis, prefix or
   * namespace than the apps).
   */
  sent: {
    items: readonly Invalidation[]
    status: number
    attempts: number
    body: unknown
    heardBy?: number
  }
  /** A request failed with a network error, a timeout or a 5xx, and will be tried again. */
  retry: { items: readonly Invalidation[]; attempt: number; delayMs: number; error: Error }
  /**
   * Invalidations given up on: `overflow` (the queue was full), `rejected` (a 4xx answer: retrying
   * cannot help), `failed` (still failing `retry.maxTime` after the first failure, or
   * `retry.retries` spent), `closed` (added after `close()`) or `exit` (the process exited with
   * them queued or in flight, e.g. `process.exit()` without `await client.flush()` first: emitted
   * from the process's `exit` event, so a listener can only act synchronously — log, not send).
   */
  dropped: {
    items: readonly Invalidation[]
    reason: 'overflow' | 'rejected' | 'failed' | 'closed' | 'exit'
    error?: Error
  }
  /** Every failure, retried or not, as an Error with a message saying what happened. */
  error: { error: Error; items: readonly Invalidation[] }
}

export type ClientEventName = keyof ClientEvents

/** A typed emitter whose listeners can neither throw into the client nor crash on `error`. */
export class Emitter {
  readonly #listeners = new Map<ClientEventName, Set<(payload: never) => void>>()

  on<E extends ClientEventName>(event: E, listener: (payload: ClientEvents[E]) => void): void {
    let set = this.#listeners.get(event)
    if (set === undefined) this.#listeners.set(event, (set = new Set()))
    set.add(listener)
  }

  off<E extends ClientEventName>(event: E, listener: (payload: ClientEvents[E]) => void): void {
    this.#listeners.get(event)?.delete(listener)
  }

  has(event: ClientEventName): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0
  }

  emit<E extends ClientEventName>(event: E, payload: ClientEvents[E]): void {
    for (const listener of this.#listeners.get(event) ?? []) {
      try {
        ;(listener as (payload: ClientEvents[E]) => void)(payload)
      } catch {
        // A failing listener must not break the client or reach the caller.
      }
    }
  }
}
