import type { ResolvedHttpOptions } from './options.js'
import { bodyEntityTags, jsonBody } from './response.js'
import type { HttpRoute } from './route.js'
import { shapeOf, writeTags } from './tags.js'
import type { CapturedResponse, HttpExchange } from './types.js'
import { canonicalPath, segmentsOf } from './url.js'

/**
 * What a successful write of `route` invalidates: the tags of its path by the route's
 * invalidation mode, the entity tags of the ids in its JSON body, and the route's own
 * `invalidates` (a list, or a function of the request and response). May repeat a tag.
 */
export function writeTagsOf<R>(
  o: ResolvedHttpOptions,
  route: HttpRoute<R>,
  exchange: HttpExchange<R>,
  response: CapturedResponse,
): string[] {
  const path = canonicalPath(exchange.path)
  const shape = path === undefined ? undefined : shapeOf(segmentsOf(path), route.pattern)
  const extra = route.extraInvalidates
  const needBody =
    (shape !== undefined && route.invalidation !== false) || typeof extra === 'function'
  const body = needBody ? jsonBody(o, response.headers, response.body) : undefined
  const tags: string[] = []
  if (shape !== undefined && route.invalidation !== false) {
    tags.push(...writeTags(route.invalidation, exchange.method, shape, o.entityTypes))
    if (body !== undefined) tags.push(...bodyEntityTags(o, route.entity, shape, body))
  }
  if (typeof extra === 'function') {
    tags.push(...extra(exchange.request, { status: response.status, body }))
  } else if (extra !== undefined) tags.push(...extra)
  return tags
}
