/** Payloads of the events of a {@link PostgresInvalidation}. */
export interface PostgresInvalidationEvents {
  /**
   * Listening from `position` on: a transaction snapshot `xmin:xmax:xip,...` (triggers: every
   * transaction it does not see is still to come) or the slot's confirmed LSN (replication).
   */
  start: { mode: 'triggers' | 'replication'; position: string }
  /**
   * One batch of committed changes was recorded in the cache and the position advanced past it
   * (to `position`, in the form of `start`'s).
   * `lagMs`: from the oldest change of the batch (its commit time with replication, the time its
   * trigger ran with triggers) to the invalidation being recorded, by the server's clock.
   */
  invalidate: { tags: readonly string[]; changes: number; position: string; lagMs: number }
  /** The connection was lost; the listener reconnects and catches up from its position. */
  disconnect: { error: unknown }
  /**
   * Something failed and will be tried again (`operation`: `'connect'`, `'read'` or
   * `'invalidate'`); nothing is skipped.
   */
  error: { error: unknown; operation: 'connect' | 'read' | 'invalidate' }
}

export type PostgresInvalidationEventName = keyof PostgresInvalidationEvents
type Listener<E extends PostgresInvalidationEventName> = (
  payload: PostgresInvalidationEvents[E],
) => void

/** A small typed emitter; a throwing listener cannot break the listener loop. */
export class Events {
  readonly #listeners = new Map<string, Set<(payload: never) => void>>()

  on<E extends PostgresInvalidationEventName>(name: E, listener: Listener<E>): void {
    let set = this.#listeners.get(name)
    if (set === undefined) this.#listeners.set(name, (set = new Set()))
    set.add(listener)
  }

  off<E extends PostgresInvalidationEventName>(name: E, listener: Listener<E>): void {
    this.#listeners.get(name)?.delete(listener)
  }

  emit<E extends PostgresInvalidationEventName>(
    name: E,
    payload: PostgresInvalidationEvents[E],
  ): void {
    for (const listener of this.#listeners.get(name) ?? []) {
      try {
        ;(listener as Listener<E>)(payload)
      } catch {
        // A listener's failure is its own: the capture goes on.
      }
    }
  }
}
