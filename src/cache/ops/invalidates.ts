import { fnTag, INTERNAL, type MemoHost } from '../internal.js'
import { checkTags } from '../tags.js'
import type { InvalidatesOptions, Memoized } from '../../types/memo.js'

/**
 * `cache.invalidates(mutation, options)`: the named tags and memoized calls are invalidated
 * before the mutation runs — so no reader starts a load from the data being changed and keeps it
 * — and again after it settles, so a load that started during the mutation (and may have read
 * half-written data) is voided too. A failing mutation still leaves them invalidated, and its
 * error is rethrown. An invalidation that cannot be recorded rejects: before the mutation, the
 * mutation does not run.
 */
export function invalidatesWith<A extends unknown[], R>(
  cache: MemoHost,
  mutation: (...args: A) => R,
  options: InvalidatesOptions<A, Awaited<R>>,
): (...args: A) => Promise<Awaited<R>> {
  const internal = cache[INTERNAL]
  const targets = (args: A, result?: Awaited<R>): string[] => {
    const tags = options.tags
    const list = checkTags(typeof tags === 'function' ? tags(args, result) : (tags ?? []))
    for (const entry of options.entries ?? []) {
      const [memoized, mapArgs] = (Array.isArray(entry) ? entry : [entry]) as [
        Memoized<unknown[], unknown>,
        ((...args: A) => unknown[]) | undefined,
      ]
      if (options.clearAll === true) list.push(fnTag(memoized.memoName))
      else
        list.push(
          internal.keyTag(memoized.key(...(mapArgs === undefined ? args : mapArgs(...args)))),
        )
    }
    return [...new Set(list)]
  }
  return async (...args: A): Promise<Awaited<R>> => {
    const before = targets(args)
    if (before.length > 0) await internal.invalidate(before)
    let result: Awaited<R>
    try {
      result = await mutation(...args)
    } catch (error) {
      if (before.length > 0) await internal.invalidate(before)
      throw error
    }
    const after = [...new Set([...before, ...targets(args, result)])]
    if (after.length > 0) await internal.invalidate(after)
    return result
  }
}
