import { invalidOption } from '../errors.js'
import { type Duration, type EntitySpec, entityTags } from '../index.js'
import { toMs } from '../util/duration.js'
import { checkBoolean, checkMode, checkTagsOption, HEADER_TOKEN } from './option-checks.js'
import type { ResolvedHttpOptions, RouteCacheOptions, VaryBy } from './options.js'
import type { InvalidationMode } from './tags.js'

/** A route's options, checked once when the route is declared (never per request). */
export interface HttpRoute<R = unknown> {
  /** GET/HEAD responses of this route go through the cache. */
  readonly caches: boolean
  /** A 2xx POST/PUT/PATCH/DELETE of this route invalidates something. */
  readonly invalidates: boolean
  /** The route's pattern (`/users/:id`), which tells ids from collection names. */
  readonly pattern: string | undefined
  readonly ttl: Duration | undefined
  readonly varyBy: readonly VaryBy<R>[]
  readonly public: boolean
  readonly tags: RouteCacheOptions<R>['tags']
  readonly keyPrefix: string
  readonly entity: EntitySpec | false | undefined
  readonly invalidation: InvalidationMode
  readonly extraInvalidates: RouteCacheOptions<R>['invalidates']
  /**
   * Request headers the route's responses were seen to `Vary` on: part of every key of the route.
   * Learned (a union, bounded) — see `docs/http.md`.
   */
  learnedVary: readonly string[]
}

/** Most distinct `Vary` names one route learns; responses varying on more are not stored. */
export const MAX_LEARNED_VARY = 16

/** Checks a route's options once, when it is declared, against the core's defaults. */
export function compileRoute<R>(
  resolved: ResolvedHttpOptions,
  config: RouteCacheOptions<R> | undefined,
  pattern: string | undefined,
): HttpRoute<R> {
  if (config !== undefined && (typeof config !== 'object' || config === null)) {
    throw invalidOption('cache', 'route options must be an object')
  }
  const c = config ?? {}
  checkBoolean(c.enabled, 'cache.enabled')
  checkBoolean(c.public, 'cache.public')
  if (c.ttl !== undefined) toMs(c.ttl, 'cache.ttl')
  const varyBy = c.varyBy ?? []
  if (!Array.isArray(varyBy)) throw invalidOption('cache.varyBy', 'must be a list')
  const normalizedVary = varyBy.map((entry: VaryBy<R>) => {
    if (typeof entry === 'function') return entry
    if (typeof entry !== 'string' || !HEADER_TOKEN.test(entry.toLowerCase())) {
      throw invalidOption(
        'cache.varyBy',
        `entries must be header names or functions, got ${String(entry)}`,
      )
    }
    return entry.toLowerCase()
  })
  checkTagsOption(c.tags, 'cache.tags')
  checkTagsOption(c.invalidates, 'cache.invalidates')
  const keyPrefix = c.keyPrefix ?? ''
  if (typeof keyPrefix !== 'string' || /\s/.test(keyPrefix)) {
    throw invalidOption('cache.keyPrefix', 'must be a string without whitespace')
  }
  // The walker checks an entity spec before looking at the value.
  if (c.entity !== undefined && c.entity !== false) entityTags(undefined, c.entity)
  const invalidation = checkMode(c.invalidation ?? resolved.invalidation, 'cache.invalidation')
  return {
    caches: config === undefined ? resolved.cacheAll : c.enabled !== false,
    invalidates: invalidation !== false || c.invalidates !== undefined,
    pattern,
    ttl: c.ttl ?? resolved.ttl,
    varyBy: normalizedVary,
    public: c.public ?? false,
    tags: c.tags,
    keyPrefix: keyPrefix === '' ? '' : `${keyPrefix}:`,
    entity: c.entity,
    invalidation,
    extraInvalidates: c.invalidates,
    learnedVary: [],
  }
}
