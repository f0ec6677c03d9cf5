import type { Cache } from '../../index.js'
import { createHttpCache, type HttpCache } from '../http-cache.js'
import type { RouteCacheOptions } from '../options.js'
import type { HttpRoute } from '../route.js'

/**
 * Routes compiled once per cache, options and pattern: an adapter's per-route middleware
 * (`cachegraph.route({ ... })`) is declared once but may serve several apps, and requests of one
 * pattern without options (writes, `cacheAll` reads) share the route of their pattern.
 */
const compiled = new WeakMap<HttpCache<never>, WeakMap<object, Map<string, HttpRoute<never>>>>()

/** The key of requests without route options. */
const NO_OPTIONS = {}

/**
 * The route of `options` (none: the app's defaults) on `pattern` (`/users/:id`, or `undefined`
 * when the framework matched no route), compiled on first use.
 */
export function routeOf<R>(
  http: HttpCache<R>,
  options: RouteCacheOptions<R> | undefined,
  pattern: string | undefined,
): HttpRoute<R> {
  const cache = http as HttpCache<never>
  let byOptions = compiled.get(cache)
  if (byOptions === undefined) compiled.set(cache, (byOptions = new WeakMap()))
  let byPattern = byOptions.get(options ?? NO_OPTIONS)
  if (byPattern === undefined) {
    byOptions.set(options ?? NO_OPTIONS, (byPattern = new Map<string, HttpRoute<never>>()))
  }
  let route = byPattern.get(pattern ?? '') as HttpRoute<R> | undefined
  if (route === undefined) {
    route = http.route(options, pattern)
    byPattern.set(pattern ?? '', route)
  }
  return route
}

/**
 * Checks route options where they are declared, before any app uses them: invalid ones throw
 * there (`E_INVALID_OPTION`), not on the first request. The checker's cache is never called.
 */
export function checkRoute<R>(options: RouteCacheOptions<R> | undefined): void {
  checker.route(options as RouteCacheOptions<unknown>)
}

const checker = createHttpCache<unknown>({
  cache: { getOrSet: () => undefined, invalidate: () => undefined } as unknown as Cache,
})
