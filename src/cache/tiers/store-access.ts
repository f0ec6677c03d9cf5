import type { Clock } from '../../clock.js'
import { CacheError } from '../../errors.js'
import type { Store } from '../../stores/store.js'
import type { CircuitState, GuardOptions, StoreOperation } from './store-guard.js'
import { StoreGuard } from './store-guard.js'
import { ReplayQueue } from '../model/replay-queue.js'

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

  /**
   * A guarded call; failures are thrown. Queued invalidations are replayed first: nothing is read
   * from (or written to) a store that has not heard of them. A read waits for that replay only
   * within its own time limit, which then covers the replay and the read together; when the
   * replay takes longer, the read fails at once (`E_TIMEOUT`, not a store failure: the replay's
   * own call counts) and its caller falls back to its loader while the replay goes on.
   * `timeoutMs`: the limit of this call when not the operation's own (a part of a big batch).
   */
  call<T>(
    operation: StoreOperation,
    call: () => Promise<T>,
    timeoutMs = this.#guard.timeout(operation),
  ): Promise<T> {
    // The common case: the guard's own promise, nothing wrapped around it.
    if (this.#replay.size === 0) return this.#guard.run(operation, call, timeoutMs)
    return this.#callAfterReplay(operation, call, timeoutMs)
  }

  async #callAfterReplay<T>(
    operation: StoreOperation,
    call: () => Promise<T>,
    timeoutMs: number,
  ): Promise<T> {
    if (operation !== 'read') {
      await this.#sendQueued()
      return this.#guard.run(operation, call, timeoutMs)
    }
    const started = Date.now()
    await within(this.#sendQueued(), timeoutMs)
    return this.#guard.run(operation, call, Math.max(1, timeoutMs - (Date.now() - started)))
  }

  /** The time limit of one call of `operation`, ms. */
  timeout(operation: StoreOperation): number {
    return this.#guard.timeout(operation)
  }

  /** A guarded call that skips the replay queue (checking the store's own state). */
  direct<T>(operation: StoreOperation, call: () => Promise<T>): Promise<T> {
    return this.#guard.run(operation, call)
  }

  /** Queues an invalidation the store did not record; true when the queue overflowed. */
  queue(tags: readonly string[], stale: boolean): boolean {
    return this.#replay.add(tags, stale)
  }

  /** Replays the queue (one drain at a time); its failure is the drain's, reported to callers. */
  #sendQueued(): Promise<void> {
    const store = this.#store
    const drain = this.#replay.drain(async (tags, stale) => {
      const result = await this.#guard.run('invalidate', () => store.invalidate(tags, { stale }))
      this.#hooks.replayed(tags, result.seq, result.epoch, stale)
    })
    // A read that stops waiting leaves the drain running: its failure must not go unhandled.
    drain.catch(() => {})
    return drain
  }
}

/**
 * `promise`, or an `E_TIMEOUT` rejection once `ms` passed (the timer is cleared either way). Only
 * reads during a replay get here, so one timer each is fine.
 */
function within(promise: Promise<void>, ms: number): Promise<void> {
  if (ms === Infinity) return promise
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new CacheError(
            'E_TIMEOUT',
            `cachegraph: shared store read skipped: queued invalidations are still being replayed (${ms} ms)`,
          ),
        ),
      ms,
    )
    timer.unref()
    promise.then(
      () => (clearTimeout(timer), resolve()),
      (error: unknown) => {
        clearTimeout(timer)
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the replay's own error, passed on as is
        reject(error)
      },
    )
  })
}
