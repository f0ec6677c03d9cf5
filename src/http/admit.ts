import { CacheError, currentDependencies, type LoaderContext } from '../index.js'
import { toMs } from '../util/duration.js'
import type { Cdn } from './cdn/cdn.js'
import { headerText, normalizeHeaders } from './headers.js'
import { internString } from './intern.js'
import { isUserTag } from './option-checks.js'
import type { ResolvedHttpOptions } from './options.js'
import type { Plan } from './plan.js'
import { bodyEntityTags, jsonBody, type SkipReason, storedForm } from './response.js'
import { type HttpRoute, MAX_LEARNED_VARY } from './route.js'
import { responseTags, shapeOf } from './tags.js'
import type { CapturedResponse, HttpExchange, StoredResponse } from './types.js'
import { segmentsOf } from './url.js'

/** Deeper paths are not cached: each ancestor is a tag of the response. */
const MAX_DEPTH = 32

/** What `getOrSet` hands back: a stored response, or a marker that the leader's was private. */
export type Loaded = StoredResponse | { readonly kind: 'unshareable'; readonly reason: SkipReason }

/**
 * Inside the read-through of `plan`'s key: whether the captured response is stored, for how
 * long and under which tags (set on `ctx`), and with a CDN its edge side.
 */
export function admit<R>(
  o: ResolvedHttpOptions,
  cdn: Cdn | undefined,
  route: HttpRoute<R>,
  plan: Plan,
  exchange: HttpExchange<R>,
  captured: CapturedResponse,
  ctx: LoaderContext,
): Loaded {
  const verdict = storedForm(o, captured, plan.vary)
  if ('skip' in verdict) {
    if (verdict.vary !== undefined) learn(route, verdict.vary)
    ctx.skip()
    return { kind: 'unshareable', reason: verdict.skip }
  }
  // The shorter of the route's ttl and the response's own lifetime (freshness.ts).
  if (verdict.ttlMs !== undefined && verdict.ttlMs < ttlMsOf(o, route)) ctx.setTtl(verdict.ttlMs)
  const segments = segmentsOf(plan.path)
  if (segments.length > MAX_DEPTH) {
    ctx.skip()
    return { kind: 'unshareable', reason: 'url' }
  }
  const shape = shapeOf(segments, route.pattern)
  const tags = responseTags(shape, o.entityTypes)
  // Its ancestors' subtree tags (`http:/items/*`) are every sibling's too: one copy for all.
  for (let i = 1; i < segments.length; i++) tags[i] = internString(tags[i] as string)
  const body = jsonBody(o, captured.headers, verdict.response.body)
  if (body !== undefined) tags.push(...bodyEntityTags(o, route.entity, shape, body))
  const own = route.tags
  if (typeof own === 'function') tags.push(...checked(own(exchange.request), 'cache.tags'))
  else if (own !== undefined) tags.push(...own)
  ctx.setTags(...tags)
  if (cdn === undefined) return verdict.response
  return { ...verdict.response, edge: edgeOf(o, cdn, route, captured) }
}

/** The route's ttl in ms: its own, else the plugin's, else the cache's. */
function ttlMsOf<R>(o: ResolvedHttpOptions, route: HttpRoute<R>): number {
  return route.ttl === undefined ? o.defaultTtlMs : toMs(route.ttl, 'cache.ttl')
}

/**
 * The edge side of a response being stored: every tag of its entry (what the handler recorded
 * included) and its lifetime — the route's ttl, shortened by the response's own lifetime and
 * by its shortest-lived input.
 */
function edgeOf<R>(
  o: ResolvedHttpOptions,
  cdn: Cdn,
  route: HttpRoute<R>,
  captured: CapturedResponse,
) {
  const dependencies = currentDependencies()
  const now = o.clock.now()
  let lifetime = dependencies?.ttlMs ?? ttlMsOf(o, route)
  if (dependencies !== undefined) {
    lifetime = Math.min(lifetime, dependencies.expiresAt - o.cacheNow())
  }
  const own = headerText(normalizeHeaders(captured.headers)['cache-control']) !== undefined
  return cdn.edgeInfo(dependencies?.tags ?? [], lifetime, own, now)
}

/**
 * The response varies on headers this route's keys did not include yet: from now on they do
 * (a union, so routes whose responses vary differently converge). This response is not stored
 * under the key it was looked up with, which ignored those headers.
 */
function learn<R>(route: HttpRoute<R>, vary: readonly string[]): void {
  const union = [...new Set([...route.learnedVary, ...vary])].sort()
  if (union.length <= MAX_LEARNED_VARY) route.learnedVary = union
}

/** The result of a route's tag function, checked like `cache.invalidate` checks tags. */
function checked(tags: readonly string[], what: string): readonly string[] {
  if (!Array.isArray(tags) || !tags.every(isUserTag)) {
    throw new CacheError(
      'E_INVALID_TAG',
      `cachegraph: ${what} must return tags (non-empty strings not starting with @)`,
    )
  }
  return tags
}
