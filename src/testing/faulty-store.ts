import { invalidOption } from '../errors.js'
import type {
  Store,
  StoreEntry,
  StoreInvalidateResult,
  StoreReadResult,
  StoreScanOptions,
  StoreScanPage,
  StoreWriteOptions,
  StoreWriteResult,
  StoreInvalidateOptions,
} from '../stores/store.js'

const OPERATIONS = [
  'read',
  'readUnchecked',
  'write',
  'invalidate',
  'scan',
  'acquireLease',
  'releaseLease',
] as const

/** The store calls a fault can target. */
export type StoreOperation = (typeof OPERATIONS)[number]

/** What went wrong, on an {@link InjectedFaultError}. */
export type FaultKind = 'error' | 'hang' | 'drop' | 'closed'

/** The default rejection of a faulted call. Its message always starts with `injected fault`. */
export class InjectedFaultError extends Error {
  readonly operation: StoreOperation
  readonly kind: FaultKind

  constructor(operation: StoreOperation, kind: FaultKind) {
    super(`injected fault: ${kind} on ${operation}`)
    this.name = 'InjectedFaultError'
    this.operation = operation
    this.kind = kind
  }
}

/**
 * One fault, applied to each call of its operations. Parts combine in this order: the latency
 * first, then a `drop` performs the call and loses its answer, a `hang` waits for
 * {@link StoreFaults.heal} or `close()`, and the call rejects (with `error`, or an
 * {@link InjectedFaultError}) when any of `error`, `drop` or `hang` is set.
 */
export interface Fault {
  /** The operations it targets. @default every operation */
  operations?: readonly StoreOperation[]
  /**
   * Added before the call reaches the inner store, in ms. A function gets the operation and the
   * wrapper's seeded random source (for deterministic jitter).
   */
  latencyMs?: number | ((operation: StoreOperation, random: () => number) => number)
  /** Reject without calling the inner store: `true` for an {@link InjectedFaultError}. */
  error?: true | Error
  /** Never settle until {@link StoreFaults.heal} or `close()`, then reject. */
  hang?: boolean
  /** Perform the inner call (its effect is real) but reject: a reply lost on the way back. */
  drop?: boolean
  /** Chance that a call is faulted, drawn from the seeded source. @default 1 */
  probability?: number
  /** Faults only this many calls, then clears itself. @default unlimited */
  times?: number
}

/** Per operation: calls made through the wrapper, and how many of them were faulted. */
export type FaultCounts = Record<StoreOperation, { calls: number; faults: number }>

/** The runtime control of a {@link FaultyStore}. */
export interface StoreFaults {
  /** Makes `fault` the active fault of each of its operations (others keep theirs). */
  set(fault: Fault): void
  /** Stops faulting the given operations (default all). Calls already hanging keep hanging. */
  clear(operations?: readonly StoreOperation[]): void
  /** Clears every fault and rejects every hanging call: the store is reachable again. */
  heal(): void
  /** Calls currently hanging. */
  readonly hanging: number
  /** A snapshot of the counters. */
  counts(): FaultCounts
}

/** Options of {@link faultyStore}. */
export interface FaultyStoreOptions {
  /** Faults active from the start, applied in order as by {@link StoreFaults.set}. */
  faults?: readonly Fault[]
  /** Seed of the random source behind `probability`: the same seed, the same faulted calls. @default 1 */
  seed?: number
}

/** A store that forwards to `inner` and injects faults into its calls. */
export interface FaultyStore<S extends Store = Store> extends Store {
  /** The wrapped store, e.g. to reach a Redis store's `client`. */
  readonly inner: S
  readonly faults: StoreFaults
}

/** mulberry32: a tiny PRNG, good enough to pick faulted calls reproducibly. */
function seeded(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

interface Active {
  fault: Fault
  /** Calls it may still fault. */
  left: number
}

function check(fault: Fault): void {
  const { latencyMs, probability, times, operations } = fault
  if (latencyMs === undefined && fault.error === undefined && !fault.hang && !fault.drop)
    throw invalidOption('fault', 'needs latencyMs, error, hang or drop')
  if (typeof latencyMs === 'number' && !(latencyMs >= 0 && Number.isFinite(latencyMs)))
    throw invalidOption('fault.latencyMs', 'must be a finite number >= 0')
  if (probability !== undefined && !(probability >= 0 && probability <= 1))
    throw invalidOption('fault.probability', 'must be between 0 and 1')
  if (times !== undefined && !(Number.isInteger(times) && times > 0))
    throw invalidOption('fault.times', 'must be a positive integer')
  for (const op of operations ?? [])
    if (!OPERATIONS.includes(op)) throw invalidOption('fault.operations', `has unknown '${op}'`)
}

/** State and rules of the injected faults; the wrapper routes every call through `run`. */
class FaultInjector implements StoreFaults {
  readonly #active = new Map<StoreOperation, Active>()
  readonly #counts = Object.fromEntries(
    OPERATIONS.map((op) => [op, { calls: 0, faults: 0 }]),
  ) as FaultCounts
  readonly #hung = new Set<() => void>()
  readonly #delays = new Set<{ timer: NodeJS.Timeout; cancel: () => void }>()
  readonly #random: () => number
  #closed = false
  /** Counts heal() calls: one that came while a call was still on its way to its hang ends it. */
  #heals = 0

  constructor(seed: number) {
    this.#random = seeded(seed)
  }

  set(fault: Fault): void {
    check(fault)
    const active = { fault, left: fault.times ?? Infinity }
    for (const op of fault.operations ?? OPERATIONS) this.#active.set(op, active)
  }

  clear(operations: readonly StoreOperation[] = OPERATIONS): void {
    for (const op of operations) this.#active.delete(op)
  }

  heal(): void {
    this.clear()
    this.#heals++
    this.#release()
  }

  get hanging(): number {
    return this.#hung.size
  }

  counts(): FaultCounts {
    return structuredClone(this.#counts)
  }

  /** Rejects what hangs or waits out a latency; later hangs reject at once. */
  close(): void {
    this.#closed = true
    this.#release()
    for (const delay of this.#delays) delay.cancel()
  }

  /** One call: counted and, if picked, faulted. Synchronous up to the first wait. */
  async run<R>(operation: StoreOperation, call: () => Promise<R>): Promise<R> {
    this.#counts[operation].calls++
    const fault = this.#pick(operation)
    if (fault === undefined) return call()
    this.#counts[operation].faults++
    const { latencyMs = 0, error, hang = false, drop = false } = fault
    const delay = typeof latencyMs === 'function' ? latencyMs(operation, this.#random) : latencyMs
    const heals = this.#heals
    if (delay > 0) await this.#delay(delay, operation)
    if (drop) await call().catch(() => {})
    // A heal() while the dropped call was still out (its effect already visible) ends the hang.
    if (hang && !this.#closed && this.#heals === heals)
      await new Promise<void>((resolve) => this.#hung.add(resolve))
    if (error === undefined && !drop && !hang) return call()
    throw error === undefined || error === true
      ? new InjectedFaultError(operation, hang ? 'hang' : drop ? 'drop' : 'error')
      : error
  }

  #pick(operation: StoreOperation): Fault | undefined {
    const active = this.#active.get(operation)
    if (active === undefined) return undefined
    const { probability = 1 } = active.fault
    // Draw only for partial faults, so adding an always-on fault does not shift the sequence.
    if (probability < 1 && this.#random() >= probability) return undefined
    if (--active.left <= 0) {
      for (const [op, value] of this.#active) if (value === active) this.#active.delete(op)
    }
    return active.fault
  }

  #delay(ms: number, operation: StoreOperation): Promise<void> {
    return new Promise((resolve, reject) => {
      const delay = {
        timer: setTimeout(() => (this.#delays.delete(delay), resolve()), ms),
        cancel: () => {
          clearTimeout(delay.timer)
          this.#delays.delete(delay)
          reject(new InjectedFaultError(operation, 'closed'))
        },
      }
      delay.timer.unref()
      this.#delays.add(delay)
    })
  }

  #release(): void {
    const hung = [...this.#hung]
    this.#hung.clear()
    for (const resolve of hung) resolve()
  }
}

class FaultyStoreImpl<S extends Store> implements FaultyStore<S> {
  readonly name: string
  readonly inner: S
  readonly faults: StoreFaults
  readonly #injector: FaultInjector
  // Own properties only when the inner store has them: the engine tests for their presence.
  declare readonly readUnchecked?: (keys: readonly string[]) => Promise<StoreReadResult | undefined>
  declare readonly scan?: (options: StoreScanOptions) => Promise<StoreScanPage>
  declare readonly acquireLease?: (key: string, token: string, ttlMs: number) => Promise<boolean>
  declare readonly releaseLease?: (key: string, token: string) => Promise<void>

  constructor(inner: S, options: FaultyStoreOptions) {
    this.name = `faulty(${inner.name})`
    this.inner = inner
    this.#injector = new FaultInjector(options.seed ?? 1)
    this.faults = this.#injector
    for (const fault of options.faults ?? []) this.#injector.set(fault)
    // Checked once here; the inner store does not gain or lose methods later.
    const full = inner as Required<Store>
    if (inner.readUnchecked !== undefined) {
      this.#define('readUnchecked', (keys: readonly string[]) =>
        this.#injector.run('readUnchecked', () => full.readUnchecked(keys)),
      )
    }
    if (inner.scan !== undefined) {
      this.#define('scan', (scan: StoreScanOptions) =>
        this.#injector.run('scan', () => full.scan(scan)),
      )
    }
    if (inner.acquireLease !== undefined && inner.releaseLease !== undefined) {
      this.#define('acquireLease', (key: string, token: string, ttlMs: number) =>
        this.#injector.run('acquireLease', () => full.acquireLease(key, token, ttlMs)),
      )
      this.#define('releaseLease', (key: string, token: string) =>
        this.#injector.run('releaseLease', () => full.releaseLease(key, token)),
      )
    }
  }

  #define(
    method: 'readUnchecked' | 'scan' | 'acquireLease' | 'releaseLease',
    value: (...args: never[]) => unknown,
  ): void {
    Object.defineProperty(this, method, { value, enumerable: true })
  }

  read(keys: readonly string[]): Promise<StoreReadResult> {
    return this.#injector.run('read', () => this.inner.read(keys))
  }

  write(entries: readonly StoreEntry[], options?: StoreWriteOptions): Promise<StoreWriteResult> {
    return this.#injector.run('write', () => this.inner.write(entries, options))
  }

  invalidate(
    tags: readonly string[],
    options?: StoreInvalidateOptions,
  ): Promise<StoreInvalidateResult> {
    return this.#injector.run('invalidate', () => this.inner.invalidate(tags, options))
  }

  /** Rejects every hanging or delayed call, then closes the inner store. */
  async close(): Promise<void> {
    this.#injector.close()
    await this.inner.close()
  }
}

/**
 * Wraps a real store and injects faults into its calls: latency, errors, hangs and lost replies,
 * set and cleared at runtime. Without an active fault every call goes straight through, so the
 * wrapper passes the store conformance suite; `readUnchecked` and `scan` exist only when the
 * inner store has them.
 *
 * @example
 * import { faultyStore } from 'cachegraph/testing'
 * import { redisStore } from 'cachegraph/redis'
 *
 * const store = faultyStore(redisStore({ url: process.env.REDIS_URL }), { seed: 42 })
 * const cache = createCache({ store })
 * // The invalidation reaches Redis, its reply does not.
 * store.faults.set({ operations: ['invalidate'], drop: true })
 * // One read in ten hangs until heal().
 * store.faults.set({ operations: ['read'], hang: true, probability: 0.1 })
 * store.faults.heal()
 * store.faults.counts().read // { calls, faults }
 */
export function faultyStore<S extends Store>(
  inner: S,
  options: FaultyStoreOptions = {},
): FaultyStore<S> {
  return new FaultyStoreImpl(inner, options)
}
