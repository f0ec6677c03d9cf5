import type { Cache } from '../../index.js'
import { HttpError } from './responses.js'

/** Decodes one percent-encoded path part exactly once (`user%3A42` → `user:42`). */
export function decodePart(raw: string, what: string): string {
  let decoded: string
  try {
    decoded = decodeURIComponent(raw)
  } catch {
    throw new HttpError(400, `cachegraph: the ${what} is not valid percent-encoding`)
  }
  if (decoded.length === 0) throw new HttpError(400, `cachegraph: the ${what} is empty`)
  return decoded
}

/**
 * An integer query parameter clamped to `min..max` (a page size is a hint, so out of range is
 * not an error); `fallback` when absent; 400 when it is not a number at all.
 */
export function clampedInt(
  query: URLSearchParams,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = query.get(name)
  if (raw === null || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value)) {
    throw new HttpError(400, `cachegraph: '${name}' must be a number, got ${JSON.stringify(raw)}`)
  }
  return Math.min(max, Math.max(min, Math.trunc(value)))
}

/** A non-empty query parameter, or undefined when absent; 400 when present but empty. */
export function optionalText(query: URLSearchParams, name: string): string | undefined {
  const value = query.get(name)
  if (value === null) return undefined
  if (value === '') throw new HttpError(400, `cachegraph: '${name}' must not be empty`)
  return value
}

/**
 * The scan cursor of `GET /keys`. Store cursors are opaque, but every store's are short runs of
 * digits and separators (Redis: a number; Redis Cluster: `<node>:<number>`), so anything else is
 * refused here rather than sent to the store.
 */
export function cursorParam(query: URLSearchParams): string {
  const cursor = query.get('cursor') ?? '0'
  if (cursor === '') return '0'
  if (!/^[\w:.-]{1,100}$/.test(cursor)) {
    throw new HttpError(400, `cachegraph: 'cursor' is not a cursor this API returned`)
  }
  return cursor
}

/**
 * The JSON form of a cursor: a number when it is one (always on the memory store and standalone
 * Redis), as the seed library answered `"cursor": 0`, so clients that loop until `cursor == 0`
 * keep working; other stores' cursors stay strings. Done is always the number `0`.
 */
export function cursorJson(cursor: string): number | string {
  if (/^\d{1,15}$/.test(cursor)) return Number(cursor)
  return cursor
}

/**
 * The cache of `?namespace=` (a path as `GET /keys` lists it, e.g. `app:users`): `cache` itself
 * when absent, else one of its descendants; 400 for a path outside it or not a namespace path.
 */
export function namespaceParam(cache: Cache, query: URLSearchParams): Cache {
  const path = query.get('namespace')
  if (path === null || path === '' || path === cache.name) return cache
  if (!path.startsWith(`${cache.name}:`)) {
    throw new HttpError(
      400,
      `cachegraph: namespace ${JSON.stringify(path)} is not '${cache.name}' or one of its children`,
    )
  }
  // Cache.namespace() checks each segment (E_INVALID_OPTION, answered 400).
  return path
    .slice(cache.name.length + 1)
    .split(':')
    .reduce((parent, name) => parent.namespace(name), cache)
}
