import { enableStrictDependencies } from './model/frame.js'
import type { CacheOptions } from '../types/options.js'
import { Cache } from './cache.js'
import { Engine } from './engine.js'
import { IMPLICIT } from './model/namespace.js'
import { resolveOptions } from './options.js'
import { ReadThrough } from './ops/read-through.js'

/**
 * Creates a cache. Options are checked here: a bad one throws a `CacheError` (`E_INVALID_OPTION`)
 * whose message names it.
 *
 * @example
 * const cache = createCache({ namespace: 'app', ttl: '5m', l1: { maxEntries: 10_000 } })
 * const user = await cache.getOrSet(`user:${id}`, () => db.users.find(id), { tags: [`user:${id}`] })
 * await cache.invalidate(`user:${id}`)
 */
export function createCache(options?: CacheOptions): Cache {
  const resolved = resolveOptions(options)
  if (resolved.strictDependencies) enableStrictDependencies()
  const engine = new Engine(resolved)
  const path = resolved.namespace
  return new Cache(engine, new ReadThrough(engine), {
    path,
    prefix: `${path}::`,
    l1Prefix: '',
    tags: [`${IMPLICIT}ns:${path}`],
  })
}
