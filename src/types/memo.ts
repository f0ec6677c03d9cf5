import type { EntitySpec } from '../memo/entities.js'
import type { GetOrSetOptions, InvalidationResult } from './options.js'

export type { EntitySpec }

/** Options of `cache.wrap(fn, options)`. */
export interface WrapOptions<A extends unknown[], R> extends Omit<
  GetOrSetOptions<R>,
  'tags' | 'signal'
> {
  /**
   * Names the function in keys and tags. Required: two services that wrap functions under the
   * same name share entries (and `fn.clear()` reaches both).
   */
  name: string
  /** Custom key of a call (prefixed with `name`). @default a stable serialization of the arguments */
  key?: (...args: A) => string
  /** Maps the arguments before keying (e.g. drop a request object, or normalize ids). */
  normalizeArgs?: (args: A) => readonly unknown[]
  /** Tags of a call: a list, or a function of the arguments and the result. */
  tags?: readonly string[] | ((args: A, result: R) => readonly string[])
  /**
   * Every object of this type found in the result (objects, lists, `{ items: [...] }` pages)
   * adds the tag `entityTag(type, id)`. `'user'`, or `{ type: 'user', idField: 'uuid' }`.
   */
  entity?: EntitySpec
  /** Entity tags of a result, for shapes the walker does not cover. */
  entities?: (result: R) => readonly string[]
}

/** A memoized function: the original signature, async, plus cache controls. */
export interface Memoized<A extends unknown[], R> {
  (...args: A): Promise<R>
  /** The `name` it was wrapped under. */
  readonly memoName: string
  /** Invalidates this call's entry (and every entry built from it). */
  invalidate(...args: A): Promise<InvalidationResult>
  /** Invalidates every call of this function (every service wrapping the same `name`). */
  clear(): Promise<InvalidationResult>
  /** Recomputes this call and stores the result (the seeds' `use_cache=False`). */
  refresh(...args: A): Promise<R>
  /** The cached value of this call, without loading it. */
  peek(...args: A): Promise<R | undefined>
  /** The cache key of this call (within the cache's namespace). */
  key(...args: A): string
  /**
   * Decorator for a mutation that changes what this function returns: invalidates the
   * matching call before the mutation runs and again after it settles (see `cache.invalidates`).
   * `mapArgs` turns the mutation's arguments into this function's; default: the same arguments.
   */
  invalidator<M extends unknown[], MR>(
    mapArgs?: (...args: M) => A,
  ): (mutation: (...args: M) => MR) => (...args: M) => Promise<Awaited<MR>>
}

/** Any memoized function, whatever its signature (parameters are contravariant). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyMemoized = Memoized<any, unknown>

/** What a mutation wrapped by `cache.invalidates` invalidates. */
export interface InvalidatesOptions<A extends unknown[], R> {
  /** Tags, or a function of the arguments (and, for the pass after the mutation, its result). */
  tags?: readonly string[] | ((args: A, result?: R) => readonly string[])
  /**
   * Memoized calls: a memoized function (called with the mutation's arguments), or a pair of a
   * memoized function and a mapping from the mutation's arguments to its arguments.
   */
  entries?: readonly (AnyMemoized | readonly [AnyMemoized, (...args: A) => unknown[]])[]
  /** With `entries`: clear those functions entirely instead of the matching calls. */
  clearAll?: boolean
}

/** Options of `cache.batch(loadMany, options)`. */
export interface BatchOptions<V> extends Omit<GetOrSetOptions<V>, 'tags' | 'signal'> {
  /** How long to collect misses before loading them. @default 0 (this turn of the event loop) */
  windowMs?: number
  /** Most keys per `loadMany` call; a full batch is loaded at once. @default 1000 */
  maxBatchSize?: number
  /** Tags of one key's entry, from its key and value. */
  tags?: (key: string, value: V) => readonly string[]
}
