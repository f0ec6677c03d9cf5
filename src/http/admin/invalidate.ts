import { entityTag } from '../../index.js'
import { readJson } from './body.js'
import type { RouteContext } from './context.js'
import { clampedInt, namespaceParam, optionalText } from './params.js'
import { HttpError, json } from './responses.js'
import { snakeCase } from './stats.js'

/**
 * `POST /invalidate` with `{ tags: [...] }` or the seed's `{ entity_type, entity_id }` (both may
 * be given; `stale: true` lets entries be served within their grace while they refresh;
 * `ack: true` answers once the fleet applied it, with `fleet`) →
 * `{ status: 'invalidated', tags, seq, fleet? }`.
 */
export async function invalidateRoute({ cache, request, maxBodyBytes, dashboard }: RouteContext) {
  const body = await readJson(request, maxBodyBytes)
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'cachegraph: the body must be a JSON object')
  }
  const { tags, entity_type: type, entity_id: id, stale, ack } = body as Record<string, unknown>
  const all: unknown[] =
    tags === undefined ? [] : Array.isArray(tags) ? [...(tags as unknown[])] : [tags]
  if (type !== undefined || id !== undefined) {
    // entityTag() rejects a missing or non-scalar type or id (E_INVALID_TAG, answered 400).
    all.push(entityTag(type as string, id as string | number))
  }
  if (all.length === 0) {
    throw new HttpError(400, 'cachegraph: give `tags` or `entity_type` and `entity_id`')
  }
  if (stale !== undefined && typeof stale !== 'boolean') {
    throw new HttpError(400, 'cachegraph: `stale` must be a boolean')
  }
  if (ack !== undefined && typeof ack !== 'boolean') {
    throw new HttpError(400, 'cachegraph: `ack` must be a boolean')
  }
  // The cache checks each tag (E_INVALID_TAG, answered 400).
  const result = await cache.invalidate(all as string[], {
    stale: stale === true,
    ack: ack === true,
  })
  // The event stream shows who applied it (the invalidation itself is in the stream already).
  if (result.fleet !== undefined) dashboard.hub.ack(result.seq, result.fleet)
  const fleet = result.fleet === undefined ? {} : { fleet: snakeCase(result.fleet) }
  return json(200, { status: 'invalidated', tags: result.tags, seq: result.seq, ...fleet })
}

/**
 * `POST /clear[?pattern=]`: without a pattern, everything in this cache's namespace (children
 * included, nothing outside it) in one invalidation; with one, the matching keys, found by
 * scanning → `{ status: 'cleared', namespace, pattern?, cleared? }`.
 */
export async function clearRoute({ cache, query }: RouteContext) {
  const pattern = optionalText(query, 'pattern')
  if (pattern === undefined) {
    await cache.clear()
    return json(200, { status: 'cleared', namespace: cache.name })
  }
  const cleared = await cache.clear({ pattern })
  return json(200, { status: 'cleared', namespace: cache.name, pattern, cleared })
}

/**
 * `GET /tags/:tag[?limit=&namespace=]` → `{ tag, namespace, keys, limit }`: keys of one namespace in
 * this process's memory tier known to
 * depend on the tag. Best effort and bounded, for debugging (other processes and the shared tier
 * are not searched).
 */
export function dependentsRoute({ cache, query, param }: RouteContext) {
  const owner = namespaceParam(cache, query)
  const limit = clampedInt(query, 'limit', 100, 1, 1_000)
  const keys = owner.dependents(param, { limit })
  return json(200, { tag: param, namespace: owner.name, keys, limit })
}
