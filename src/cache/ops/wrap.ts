import { fnTag, INTERNAL, type MemoHost, MISS } from '../internal.js'
import { invalidOption } from '../../errors.js'
import type { Memoized, WrapOptions } from '../../types/memo.js'
import type { GetOrSetOptions } from '../../types/options.js'
import { argsKey } from '../../memo/args-key.js'
import { resultEntityTags } from '../../memo/entities.js'
import { invalidatesWith } from './invalidates.js'
import { checkEarlyRefresh } from '../options.js'

/**
 * `cache.wrap(fn, options)`: memoizes `fn` through `cache.getOrSet`, keyed by `name` and its
 * arguments; every entry carries the implicit tag of the function, so `clear()` is one
 * invalidation whatever the number of calls cached.
 */
export function memoize<A extends unknown[], R>(
  cache: MemoHost,
  fn: (...args: A) => R | Promise<R>,
  options: WrapOptions<A, R>,
): Memoized<A, R> {
  if (typeof fn !== 'function') throw invalidOption('fn', 'wrap() needs a function')
  if (typeof options?.name !== 'string' || options.name.length === 0) {
    throw invalidOption('name', 'is required by wrap(): it names the function in keys and tags')
  }
  const { name, key: customKey, normalizeArgs, tags, entity, entities, ...readOptions } = options
  const internal = cache[INTERNAL]
  const implicit = [fnTag(name)]
  const keyOf = (args: A): string =>
    customKey === undefined
      ? argsKey(name, normalizeArgs === undefined ? args : normalizeArgs(args))
      : `${name}:${customKey(...args)}`
  const tagsOf = (args: A, result: R): readonly string[] => [
    ...(typeof tags === 'function' ? tags(args, result) : (tags ?? [])),
    ...(entity === undefined ? [] : resultEntityTags(result, entity)),
    ...(entities === undefined ? [] : entities(result)),
  ]
  const dynamicTags = typeof tags === 'function' || entity !== undefined || entities !== undefined

  const version = readOptions.version === undefined ? undefined : String(readOptions.version)
  const earlyRefresh = readOptions.earlyRefresh !== undefined
  if (earlyRefresh) checkEarlyRefresh(readOptions.earlyRefresh)
  const staticOptions: GetOrSetOptions<R> = {
    ...readOptions,
    tags: typeof tags === 'function' ? [] : (tags ?? []),
  }
  const memoized = ((...args: A): Promise<R> => {
    const key = keyOf(args)
    // A hit answers before any per-call options are built (with earlyRefresh, the full path
    // decides whether it starts a refresh).
    const hit = earlyRefresh ? MISS : internal.freshValue(key, version)
    if (hit !== MISS) return Promise.resolve(hit as R)
    const call: GetOrSetOptions<R> = dynamicTags
      ? { ...readOptions, tags: (result: R) => tagsOf(args, result) }
      : staticOptions
    return internal.getOrSet(key, () => fn(...args), call, implicit)
  }) as Memoized<A, R>

  Object.defineProperty(memoized, 'name', { value: name })
  Object.assign(memoized, {
    memoName: name,
    key: (...args: A) => keyOf(args),
    invalidate: (...args: A) => internal.invalidate([internal.keyTag(keyOf(args))]),
    clear: () => internal.invalidate(implicit),
    peek: (...args: A) => cache.get<R>(keyOf(args)),
    // Invalidate first: a load of this call already running can then not store its older result.
    refresh: async (...args: A) => {
      await memoized.invalidate(...args)
      return memoized(...args)
    },
    invalidator:
      <M extends unknown[], MR>(mapArgs?: (...args: M) => A) =>
      (mutation: (...args: M) => MR) =>
        invalidatesWith(cache, mutation, {
          entries: [[memoized, (...args: M) => (mapArgs === undefined ? args : mapArgs(...args))]],
        }),
  })
  return memoized
}
