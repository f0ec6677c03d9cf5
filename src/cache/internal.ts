import type { GetOrSetOptions, InvalidationResult, Loader } from '../types/options.js'
import { IMPLICIT } from './model/namespace.js'

/**
 * Key of the engine-internal API a cache offers to the memoization layer (implicit tags,
 * invalidations of implicit tags). A symbol, so it is not part of the public surface.
 */
export const INTERNAL: unique symbol = Symbol('cachegraph.internal')

/** What `cache[INTERNAL]` offers. */
export interface InternalApi {
  /** `getOrSet` with extra implicit tags (e.g. `@fn:<name>` of a memoized function). */
  getOrSet<T>(
    key: string,
    loader: Loader<T>,
    options: GetOrSetOptions<T>,
    implicitTags: readonly string[],
  ): Promise<T>
  /**
   * The value of a plain fresh L1 hit of `key` (counted, its dependencies recorded), or
   * `MISS`: lets a memoized call answer a hit before building any options.
   */
  freshValue(key: string, version: string | undefined): unknown
  /** Invalidates tags as given, implicit ones included. */
  invalidate(tags: readonly string[]): Promise<InvalidationResult>
  /** The implicit tag of one key of this namespace. */
  keyTag(key: string): string
}

/** What the memoization layer (`ops/wrap.ts`, `ops/invalidates.ts`) needs of a cache. */
export interface MemoHost {
  readonly [INTERNAL]: InternalApi
  get<T = unknown>(key: string): Promise<T | undefined>
}

/** What `freshValue` returns when there is no plain fresh hit. */
export const MISS: unique symbol = Symbol('cachegraph.miss')

/** Implicit tag of every entry of a memoized function: `fn.clear()` invalidates it. */
export const fnTag = (name: string): string => `${IMPLICIT}fn:${name}`
