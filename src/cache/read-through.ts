import {
  addOwnTag,
  currentFrame,
  frameTags,
  type LoadFrame,
  mergeInto,
  newFrame,
  runInFrame,
} from '../memo/context.js'
import type { GetOrSetOptions, Loader, LoaderContext } from '../types/options.js'
import { toMs } from './duration.js'
import { type Engine, keyTag, type Namespace } from './engine.js'
import { Validity } from './tag-registry.js'

/** What a finished load hands to every caller that waited on it. */
interface LoadResult {
  value: unknown
  tags: readonly string[]
  /** Effective as-of sequence (the minimum over the load and its nested inputs). */
  start: number
  /** Per-tag starts when they differ from `start`. */
  tagStarts: readonly number[] | undefined
  expiresAt: number
}

/** One load of one key, shared by every caller that may join it. */
interface Flight {
  /** Registry generation when the flight began: unchanged means "nothing invalidated since". */
  readonly generation: number
  readonly tags: readonly string[]
  /** Known once the miss read answered (or at once without a store). */
  start: number | undefined
  /** Tags discovered so far by the running loader. */
  frame: LoadFrame | undefined
  promise: Promise<LoadResult>
}

/**
 * `getOrSet`: L1, then one shared flight per key (shared-tier read, then the loader).
 *
 * Rules (docs/invalidation.md): a load is as of the sequence read before the loader started;
 * a result whose tags were invalidated after that is returned to the callers already waiting but
 * not stored; a caller that arrives after such an invalidation never joins the older flight, and
 * one that joined before the loader discovered the invalidated tag loads again.
 */
export class ReadThrough {
  readonly #engine: Engine
  readonly #flights = new Map<string, Flight>()

  constructor(engine: Engine) {
    this.#engine = engine
  }

  get inFlight(): number {
    return this.#flights.size
  }

  async getOrSet<T>(
    ns: Namespace,
    key: string,
    loader: Loader<T>,
    options: GetOrSetOptions<T> = {},
  ): Promise<T> {
    const engine = this.#engine
    const fullKey = ns.prefix + key
    const parent = currentFrame()
    if (!engine.options.enabled) return this.#runDisabled(key, loader, parent)
    const entry = engine.lookupL1(fullKey)
    if (
      entry !== undefined &&
      entry.validity === Validity.Valid &&
      engine.options.clock.now() < entry.expiresAt
    ) {
      engine.counters.hits++
      engine.counters.l1Hits++
      if (engine.events.has('hit'))
        engine.events.emit('hit', { key: fullKey, tier: 'l1', stale: false })
      mergeInto(parent, entry.tags, entry.start, entry.tagStarts, entry.expiresAt)
      return engine.handOut(entry.value) as T
    }
    let flight = this.#flights.get(fullKey)
    if (flight !== undefined && !this.#canJoin(flight)) flight = undefined
    const joinedAt = flight === undefined ? undefined : engine.registry.generation
    flight ??= this.#start(ns, fullKey, key, loader, options as GetOrSetOptions<unknown>)
    let result = await waitFor(flight.promise, options.signal)
    if (joinedAt !== undefined && joinedAt !== flight.generation && this.#invalid(result)) {
      // Joined after an invalidation, and the loader later turned out to depend on what was
      // invalidated: this caller must not get the older value. Lead a fresh load.
      const fresh = this.#start(ns, fullKey, key, loader, options as GetOrSetOptions<unknown>)
      result = await waitFor(fresh.promise, options.signal)
    }
    mergeInto(parent, result.tags, result.start, result.tagStarts, result.expiresAt)
    return result.value as T
  }

  /** Whether a caller arriving now may share `flight`'s result. */
  #canJoin(flight: Flight): boolean {
    const registry = this.#engine.registry
    if (registry.generation === flight.generation) return true
    if (flight.start === undefined) return false
    if (flight.frame !== undefined) {
      const { tags, tagStarts } = frameTags(flight.frame)
      return registry.check(tags, flight.frame.start, tagStarts) !== Validity.Invalid
    }
    const tags = flight.tags
    return registry.check(tags, flight.start) !== Validity.Invalid
  }

  #invalid(result: LoadResult): boolean {
    return (
      this.#engine.registry.check(result.tags, result.start, result.tagStarts) === Validity.Invalid
    )
  }

  #start(
    ns: Namespace,
    fullKey: string,
    key: string,
    loader: Loader<unknown>,
    options: GetOrSetOptions<unknown>,
  ): Flight {
    const tags = [
      ...(Array.isArray(options.tags) ? (options.tags as string[]) : []),
      keyTag(fullKey),
      ...ns.tags,
    ]
    const flight: Flight = {
      generation: this.#engine.registry.generation,
      tags,
      start: undefined,
      frame: undefined,
      promise: undefined as unknown as Promise<LoadResult>,
    }
    flight.promise = this.#load(flight, fullKey, key, loader, options)
    // Nobody may be left waiting (every caller aborted): a rejection must not go unhandled.
    flight.promise.catch(() => {})
    this.#flights.set(fullKey, flight)
    const release = () => {
      if (this.#flights.get(fullKey) === flight) this.#flights.delete(fullKey)
    }
    flight.promise.then(release, release)
    return flight
  }

  async #load(
    flight: Flight,
    fullKey: string,
    key: string,
    loader: Loader<unknown>,
    options: GetOrSetOptions<unknown>,
  ): Promise<LoadResult> {
    const engine = this.#engine
    let start = engine.localSeq()
    if (engine.store !== undefined) {
      const read = await engine.readStore([fullKey])
      const record = read?.entries[0]
      if (record !== undefined) {
        const entry = engine.decode(fullKey, record)
        const now = engine.options.clock.now()
        if (
          entry !== undefined &&
          engine.registry.check(entry.tags, entry.start, entry.tagStarts) === Validity.Valid &&
          now < entry.expiresAt
        ) {
          engine.counters.hits++
          engine.counters.l2Hits++
          if (engine.events.has('hit'))
            engine.events.emit('hit', { key: fullKey, tier: 'l2', stale: false })
          engine.fillL1(fullKey, entry, now)
          return {
            value: entry.value,
            tags: entry.tags,
            start: entry.start,
            tagStarts: entry.tagStarts,
            expiresAt: entry.expiresAt,
          }
        }
      }
      engine.counters.l2Misses++
      // Unreachable store: the loader still runs, but its value cannot be vouched for, so it is
      // as of "never" and nothing is stored.
      start = read?.seq ?? -Infinity
    }
    engine.counters.misses++
    engine.counters.l1Misses++
    engine.counters.loads++
    if (engine.events.has('miss')) engine.events.emit('miss', { key: fullKey })
    const frame = newFrame(flight.tags, start as number)
    flight.start = start
    flight.frame = frame
    const value = await runInFrame(frame, () => loader(loaderContext(key, frame)))
    if (typeof options.tags === 'function')
      for (const tag of options.tags(value)) addOwnTag(frame, tag)
    const { tags, tagStarts } = frameTags(frame)
    const now = engine.options.clock.now()
    const ttlMs = Math.min(
      frame.ttlMs ?? (options.ttl === undefined ? engine.options.ttlMs : toMs(options.ttl, 'ttl')),
      frame.expiresAt - now,
    )
    const result: LoadResult = {
      value,
      tags,
      start: frame.start,
      tagStarts,
      expiresAt: now + Math.max(0, ttlMs),
    }
    if (value === undefined || frame.skip || ttlMs <= 0 || !Number.isFinite(frame.start))
      return result
    try {
      await engine.commit([{ fullKey, value, tags, start: frame.start, tagStarts, ttlMs }], now)
    } catch (error) {
      // The value cannot be stored (e.g. not serializable): callers still get it.
      engine.reportError(error, 'set', fullKey)
    }
    return result
  }

  async #runDisabled<T>(key: string, loader: Loader<T>, parent: LoadFrame | undefined): Promise<T> {
    const frame = newFrame([], parent?.start ?? Infinity)
    const value = await runInFrame(frame, () => loader(loaderContext(key, frame)))
    const { tags, tagStarts } = frameTags(frame)
    mergeInto(parent, tags, frame.start, tagStarts, frame.expiresAt)
    return value
  }
}

function loaderContext(key: string, frame: LoadFrame): LoaderContext {
  return {
    key,
    setTtl: (ttl) => void (frame.ttlMs = toMs(ttl, 'ttl')),
    setTags: (...tags) => tags.forEach((tag) => addOwnTag(frame, tag)),
    skip: () => void (frame.skip = true),
  }
}

/** Waits for `promise`, or until `signal` aborts (only this caller stops waiting). */
function waitFor<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise
  if (signal.aborted) return Promise.reject(signal.reason as Error)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: Error) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}
