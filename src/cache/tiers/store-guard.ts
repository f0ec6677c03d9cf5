import type { Clock } from '../../clock.js'
import { CacheError, isCacheError } from '../../errors.js'

/** What the engine calls the shared tier for. */
export type StoreOperation = 'read' | 'write' | 'invalidate' | 'scan'

/** Resolved limits of shared-tier calls. */
export interface GuardOptions {
  /** Per operation, ms. */
  timeouts: Record<StoreOperation, number>
  /** Consecutive failures that open the circuit; undefined: no breaker. */
  failures: number | undefined
  /** How long an open circuit refuses calls before letting one probe through, ms. */
  cooldownMs: number
}

/** States of the circuit, as reported by the `store:circuit` event. */
export type CircuitState = 'closed' | 'open' | 'half-open'

/**
 * Every call to the shared tier goes through here: it gets a timeout, and consecutive failures
 * open a circuit breaker. While the circuit is open, calls fail at once (no I/O, no waiting):
 * reads go straight to their loaders. After `cooldown` one call is let through as a probe; its
 * success closes the circuit, its failure opens it again.
 */
export class StoreGuard {
  readonly #options: GuardOptions
  readonly #clock: Clock
  readonly #onState: (state: CircuitState, cause: unknown) => void
  #state: CircuitState = 'closed'
  #failures = 0
  #openUntil = 0
  #probing = false

  constructor(
    options: GuardOptions,
    clock: Clock,
    onState: (state: CircuitState, cause: unknown) => void,
  ) {
    this.#options = options
    this.#clock = clock
    this.#onState = onState
  }

  get state(): CircuitState {
    return this.#state
  }

  /** The time limit of one call of `operation`, ms. */
  timeout(operation: StoreOperation): number {
    return this.#options.timeouts[operation]
  }

  /**
   * Runs `call` within the operation's time limit (or `timeoutMs`, when the caller already spent
   * part of it), unless the circuit refuses it. On the path of every shared-tier read: the call's
   * answer, its time limit and its count for the breaker are one promise.
   */
  run<T>(
    operation: StoreOperation,
    call: () => Promise<T>,
    timeoutMs = this.#options.timeouts[operation],
  ): Promise<T> {
    let probe: boolean
    let promise: Promise<T>
    try {
      probe = this.#admit(operation)
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passed on as thrown
      return Promise.reject(error)
    }
    try {
      promise = call()
    } catch (error) {
      this.#settled(false, error, probe)
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passed on as thrown
      return Promise.reject(error)
    }
    return this.#within(promise, timeoutMs, operation, probe)
  }

  /** Counts a call's end. */
  #settled(ok: boolean, error: unknown, probe: boolean): void {
    if (probe) this.#probing = false
    if (ok) this.#succeeded()
    // The caller's own input is the caller's error, not the store's: it never opens the circuit.
    else if (!isCallerError(error)) this.#failed(error)
  }

  /**
   * `promise`, or an `E_TIMEOUT` rejection after `ms`; whichever comes first is counted (a
   * success, or a failure for the breaker).
   */
  #within<T>(promise: Promise<T>, ms: number, operation: string, probe: boolean): Promise<T> {
    if (ms === Infinity) {
      return promise.then(
        (value) => (this.#settled(true, undefined, probe), value),
        (error: unknown) => {
          this.#settled(false, error, probe)
          throw error
        },
      )
    }
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = {
        deadline: Date.now() + ms,
        expire: () => {
          const error = new CacheError(
            'E_TIMEOUT',
            `cachegraph: shared store ${operation} timed out (${ms} ms)`,
          )
          this.#settled(false, error, probe)
          reject(error)
        },
      }
      deadlines.add(pending)
      promise.then(
        (value) => {
          if (!deadlines.remove(pending)) return
          this.#settled(true, undefined, probe)
          resolve(value)
        },
        (error: unknown) => {
          if (!deadlines.remove(pending)) return
          this.#settled(false, error, probe)
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the store's own error, passed on as is
          reject(error)
        },
      )
    })
  }

  /** Throws when the circuit is open; true when this call is the half-open probe. */
  #admit(operation: StoreOperation): boolean {
    if (this.#state === 'closed') return false
    if (this.#state === 'open' && this.#clock.now() >= this.#openUntil) {
      this.#set('half-open', undefined)
    }
    if (this.#state === 'half-open' && !this.#probing) {
      this.#probing = true
      return true
    }
    throw new CacheError(
      'E_STORE',
      `cachegraph: shared store ${operation} skipped: the circuit is open after repeated failures`,
    )
  }

  #succeeded(): void {
    this.#failures = 0
    if (this.#state !== 'closed') this.#set('closed', undefined)
  }

  #failed(error: unknown): void {
    const threshold = this.#options.failures
    if (threshold === undefined) return
    this.#failures++
    if (this.#state === 'half-open' || (this.#state === 'closed' && this.#failures >= threshold)) {
      this.#openUntil = this.#clock.now() + this.#options.cooldownMs
      this.#set('open', error)
    }
  }

  #set(state: CircuitState, cause: unknown): void {
    this.#state = state
    this.#onState(state, cause)
  }
}

/**
 * Errors caused by what a caller asked for, not by the store: input refused as too large, and a
 * JavaScript engine limit (`RangeError`: a stack or string length overflow) reached building the
 * call. A healthy store stays trusted after them.
 */
function isCallerError(error: unknown): boolean {
  return isCacheError(error, 'E_TOO_LARGE') || error instanceof RangeError
}

/** A call waiting for its answer, and what to do when its time is up. */
interface Pending {
  deadline: number
  expire: () => void
}

/**
 * The time limits of calls in flight, checked by one timer instead of one timer per call (a
 * store read is on the hot path of every L1 miss). Precision is a few ms, plenty for limits of
 * tens of ms and more.
 */
class Deadlines {
  readonly #pending = new Set<Pending>()
  #timer: NodeJS.Timeout | undefined

  add(pending: Pending): void {
    this.#pending.add(pending)
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#check(), 5)
      this.#timer.unref()
    }
  }

  /** False when the call had already expired. */
  remove(pending: Pending): boolean {
    return this.#pending.delete(pending)
  }

  #check(): void {
    if (this.#pending.size === 0) {
      clearInterval(this.#timer)
      this.#timer = undefined
      return
    }
    const now = Date.now()
    for (const pending of this.#pending) {
      if (pending.deadline > now) continue
      // A timer that fires late because the event loop was busy gives the I/O that may have
      // answered meanwhile one more turn before the call counts as timed out.
      setImmediate(() => {
        if (this.#pending.delete(pending)) pending.expire()
      })
    }
  }
}

const deadlines = new Deadlines()
