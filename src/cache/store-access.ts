import type { Clock } from '../clock.js'
import type { Store } from '../stores/store.js'
import type { CircuitState, GuardOptions, StoreOperation } from './store-guard.js'
import { StoreGuard } from './store-guard.js'
import { ReplayQueue } from './replay-queue.js'

/** What {@link StoreAccess} tells the engine. */
export interface StoreAccessHooks {
  circuit(state: CircuitState, cause: unknown): void
  /** An invalidation of the replay queue was recorded at `seq` of `epoch`. */
  replayed(tags: readonly string[], seq: number, epoch: string, stale: boolean): void
}

/**
 * Every call to the shared tier: within its time limit and the circuit breaker, and after the
 * invalidations the store did not record — nothing is read from (or written to) a store that has
 * not heard of them.
 */
export class StoreAccess {
  readonly #store: Store
  readonly #guard: StoreGuard
  readonly #replay: ReplayQueue
  readonly #hooks: StoreAccessHooks

  constructor(
    store: Store,
    options: { guard: GuardOptions; maxReplayTags: number; rootTag: string; clock: Clock },
    hooks: StoreAccessHooks,
  ) {
    this.#store = store
    this.#hooks = hooks
    this.#guard = new StoreGuard(options.guard, options.clock, (state, cause) =>
      hooks.circuit(state, cause),
    )
    this.#replay = new ReplayQueue(options.maxReplayTags, options.rootTag)
  }

  get circuit(): CircuitState {
    return this.#guard.state
  }

  /** Distinct tags waiting to be replayed. */
  get pending(): number {
    return this.#replay.size
  }

  /** A guarded call; failures are thrown. */
  async call<T>(operation: StoreOperation, call: () => Promise<T>): Promise<T> {
    if (this.#replay.size > 0) await this.#sendQueued()
    return this.#guard.run(operation, call)
  }

  /** A guarded call that skips the replay queue (checking the store's own state). */
  direct<T>(operation: StoreOperation, call: () => Promise<T>): Promise<T> {
    return this.#guard.run(operation, call)
  }

  /** Queues an invalidation the store did not record; true when the queue overflowed. */
  queue(tags: readonly string[], stale: boolean): boolean {
    return this.#replay.add(tags, stale)
  }

  #sendQueued(): Promise<void> {
    const store = this.#store
    return this.#replay.drain(async (tags, stale) => {
      const result = await this.#guard.run('invalidate', () => store.invalidate(tags, { stale }))
      this.#hooks.replayed(tags, result.seq, result.epoch, stale)
    })
  }
}
