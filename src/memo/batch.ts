import { CacheError } from '../errors.js'
import { currentFrame, type LoadFrame, newFrame, runInFrame } from '../cache/model/frame.js'

/** What `loadMany` may return: a Map, a record by key, or a list aligned with the keys. */
export type ManyResult<V> = ReadonlyMap<string, V> | Readonly<Record<string, V>> | readonly V[]

/** Loads several keys at once (a database `WHERE id IN (...)`, an API batch endpoint). */
export type LoadMany<V> = (keys: string[]) => ManyResult<V> | Promise<ManyResult<V>>

interface Waiter {
  key: string
  frame: LoadFrame | undefined
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
}

/**
 * Collects the keys that missed within a window (DataLoader-style) and loads them with one
 * `loadMany` call, fanning the results — or its error — out to every waiter.
 *
 * `loadMany` runs in a context of its own: the waiters' contexts are not visible to it. What it
 * records with `dependsOn` (and the tags of cached calls it makes) is therefore recorded for
 * every key of the batch, as of each waiter's own start.
 */
export class Batcher<V> {
  readonly #loadMany: LoadMany<V>
  readonly #windowMs: number
  readonly #maxBatchSize: number
  #pending: Waiter[] = []
  #timer: NodeJS.Timeout | NodeJS.Immediate | undefined

  constructor(loadMany: LoadMany<V>, windowMs: number, maxBatchSize: number) {
    if (typeof loadMany !== 'function') {
      throw new CacheError('E_INVALID_OPTION', 'cachegraph: option `loadMany` must be a function')
    }
    if (!(windowMs >= 0))
      throw new CacheError('E_INVALID_OPTION', 'cachegraph: option `windowMs` must be >= 0')
    if (!(maxBatchSize >= 1)) {
      throw new CacheError('E_INVALID_OPTION', 'cachegraph: option `maxBatchSize` must be >= 1')
    }
    this.#loadMany = loadMany
    this.#windowMs = windowMs
    this.#maxBatchSize = maxBatchSize
  }

  /** Number of keys waiting for the next flush. */
  get size(): number {
    return this.#pending.length
  }

  /** The value of `key` from the next batch; `undefined` when `loadMany` did not return it. */
  load(key: string): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      this.#pending.push({
        key,
        frame: currentFrame(),
        resolve: resolve as (v: unknown) => void,
        reject,
      })
      if (this.#pending.length >= this.#maxBatchSize) this.flush()
      else this.#schedule()
    })
  }

  /** Loads what is pending now. */
  flush(): void {
    if (this.#timer !== undefined) {
      if (this.#windowMs > 0) clearTimeout(this.#timer as NodeJS.Timeout)
      else clearImmediate(this.#timer as NodeJS.Immediate)
      this.#timer = undefined
    }
    const waiters = this.#pending
    this.#pending = []
    if (waiters.length > 0) void this.#run(waiters)
  }

  #schedule(): void {
    if (this.#timer !== undefined) return
    this.#timer =
      this.#windowMs > 0
        ? setTimeout(() => this.flush(), this.#windowMs)
        : setImmediate(() => this.flush())
  }

  async #run(waiters: Waiter[]): Promise<void> {
    const keys = [...new Set(waiters.map((w) => w.key))]
    // Own start +Infinity: tags the batch declares take each waiter's own start when merged.
    const frame = newFrame([], Infinity)
    let result: ManyResult<V>
    try {
      result = await runInFrame(frame, () => this.#loadMany(keys))
    } catch (error) {
      for (const waiter of waiters) waiter.reject(error)
      return
    }
    const valueOf = pick(result, keys)
    for (const waiter of waiters) {
      if (waiter.frame !== undefined) mergeBatch(waiter.frame, frame)
      waiter.resolve(valueOf(waiter.key))
    }
  }
}

/** Reads one key's value out of whatever shape `loadMany` returned. */
export function pick<V>(result: ManyResult<V>, keys: string[]): (key: string) => V | undefined {
  if (result instanceof Map) return (key) => (result as ReadonlyMap<string, V>).get(key)
  if (Array.isArray(result)) {
    const list = result as readonly V[]
    const index = new Map(keys.map((key, i) => [key, i]))
    return (key) => list[index.get(key) as number]
  }
  const record = result as Readonly<Record<string, V>>
  return (key) => (Object.hasOwn(record, key) ? record[key] : undefined)
}

/** Folds what a batch depended on into one waiter's frame. */
function mergeBatch(target: LoadFrame, batch: LoadFrame): void {
  if (target.closed) return
  for (const [tag, start] of batch.tags) {
    const asOf = Math.min(start, target.ownStart)
    const known = target.tags.get(tag)
    if (known === undefined || asOf < known) target.tags.set(tag, asOf)
  }
  if (batch.start < target.start) target.start = batch.start
  if (batch.expiresAt < target.expiresAt) target.expiresAt = batch.expiresAt
}
