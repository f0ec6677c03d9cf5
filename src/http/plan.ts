import { CacheError } from '../index.js'
import { directives } from './headers.js'
import { buildKey, functionPart, headerPart, hostPart, varyPart } from './key.js'
import type { ResolvedHttpOptions } from './options.js'
import type { SkipReason } from './response.js'
import type { HttpRoute } from './route.js'
import { shareableHost } from './shareable.js'
import type { HttpExchange } from './types.js'
import { canonicalPath, canonicalQuery } from './url.js'

/** Longer paths are not cached: every ancestor becomes a tag, and tags should stay small. */
const MAX_PATH_LENGTH = 2_048

/** Where a cacheable GET/HEAD request's response lives. */
export interface Plan {
  key: string
  /** The canonical path (`url.ts`). */
  path: string
  /** The learned `Vary` names this key includes. */
  vary: readonly string[]
}

/** The key and variant of a request of `route`, or why it is not cacheable. */
export function planOf<R>(
  o: ResolvedHttpOptions,
  route: HttpRoute<R>,
  exchange: HttpExchange<R>,
): Plan | SkipReason {
  const shared = shareableHost(o, route, exchange)
  if (typeof shared === 'string') return shared
  const { host } = shared
  const path = canonicalPath(exchange.path)
  const query = canonicalQuery(exchange.query)
  if (path === undefined || query === undefined || path.length > MAX_PATH_LENGTH) return 'url'
  const parts: string[] = host === undefined ? [] : [hostPart(host)]
  const { varyBy, learnedVary } = route
  for (let i = 0; i < varyBy.length; i++) {
    const entry = varyBy[i] as (typeof varyBy)[number]
    if (typeof entry === 'string') {
      const value = exchange.header(entry)
      if (value === undefined || value === '') return 'vary-value'
      parts.push(headerPart(entry, value))
    } else {
      const value = varyValue(entry(exchange.request), i)
      if (value === undefined) return 'vary-value'
      parts.push(functionPart(i, value))
    }
  }
  for (const name of learnedVary) parts.push(varyPart(name, exchange.header(name)))
  const key = buildKey(route.keyPrefix, exchange.method, path, query, parts)
  return { key, path, vary: learnedVary }
}

/** The request says `Cache-Control` or `Pragma`: {@link requestDirectives} has something to read. */
export const hasDirectives = (exchange: HttpExchange<unknown>): boolean =>
  exchange.header('cache-control') !== undefined || exchange.header('pragma') !== undefined

/** The request's `Cache-Control` directives (`Pragma: no-cache` when it has none, RFC 9111 §5.4). */
export function requestDirectives(exchange: HttpExchange<unknown>): Set<string> | undefined {
  const cacheControl = exchange.header('cache-control')
  if (cacheControl !== undefined) return directives(cacheControl)
  const pragma = exchange.header('pragma')
  return pragma === undefined ? undefined : directives(pragma)
}

/** A `varyBy` function's value as key text; `undefined` when missing. */
function varyValue(value: unknown, index: number): string | undefined {
  if (value === undefined || value === null || value === '') return undefined
  switch (typeof value) {
    case 'string':
      return value
    case 'number':
    case 'bigint':
    case 'boolean':
      return String(value)
    default:
      throw new CacheError(
        'E_INVALID_VALUE',
        `cachegraph: varyBy[${index}] must return a string, number, bigint or boolean, got ${typeof value}`,
      )
  }
}
