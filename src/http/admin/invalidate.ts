import { type Cache, entityTag, type FleetAck } from '../../index.js'
import { type InvalidationAnswer, parseInvalidation } from '../../protocol/invalidation.js'
import type { Logger } from '../../warnings.js'
import { readJson } from './body.js'
import type { RouteContext } from './context.js'
import { listenersOf, warnIfUnheard } from './heard.js'
import { clampedInt, namespaceParam, optionalText } from './params.js'
import { HttpError, json } from './responses.js'
import { snakeCase } from './snake-case.js'

/** What {@link applyInvalidation} did. */
export interface AppliedInvalidation {
  /** The tags invalidated, entity tags included. */
  tags: string[]
  /** The keys deleted. */
  keys: string[]
  /** The step of the sequence that covers it. */
  seq: number
  /** With `ack`: who applied it. */
  fleet?: FleetAck
  /**
   * How many other processes listen on the store and bus, so heard it (with `ack`: how many were
   * asked); undefined without a bus. `0` is warned about (`CACHEGRAPH_INVALIDATION_UNHEARD`).
   */
  heardBy?: number
}

/**
 * Reads an invalidation body (`src/protocol/invalidation.ts`: the seed's
 * `{ entity_id, entity_type }`, `{ tags }`, `{ keys }`, a list of them; `stale` and `ack` on one
 * object) from `request` and applies it: keys deleted, tags and entities invalidated in one step.
 * `ack` may also come from the caller (the service's `?ack=1`). Shared by the service's
 * `POST /cache/invalidate` and the admin API's `POST /invalidate`. An invalidation nobody heard
 * is warned about to `logger` (the cache's by default).
 */
export async function applyInvalidation(
  cache: Cache,
  request: Request,
  maxBodyBytes: number,
  ackByCaller = false,
  logger: Logger | undefined = cache.settings.logger,
): Promise<AppliedInvalidation> {
  const parsed = parseInvalidation(await readJson(request, maxBodyBytes), entityTag)
  if (!parsed.ok) throw new HttpError(400, parsed.error)
  const { tags, keys, stale } = parsed.request
  const ack = parsed.request.ack || ackByCaller
  if (tags.length === 0 && keys.length === 0) {
    throw new HttpError(400, 'cachegraph: nothing to invalidate (empty `tags` and `keys`)')
  }
  if (ack && keys.length > 0) {
    throw new HttpError(400, 'cachegraph: `ack` covers tags and entities, not `keys`')
  }
  // Read alongside the invalidation, not after it: the answer waits for no extra round trip.
  const listening = ack ? undefined : listenersOf(cache)
  if (keys.length > 0) await cache.deleteMany(keys)
  // A keys-only request has no result of its own: the current step covers its deletion.
  // The cache checks each tag (E_INVALID_TAG, answered 400).
  const result = tags.length > 0 ? await cache.invalidate(tags, { stale, ack }) : undefined
  const seq = result?.seq ?? (await cache.begin())
  const applied: AppliedInvalidation = { tags: [...(result?.tags ?? tags)], keys, seq }
  if (result?.fleet !== undefined) applied.fleet = result.fleet
  // Those asked heard it; when the fleet's records were lost nobody knows who was not asked.
  const fleet = result?.fleet
  const heardBy =
    fleet === undefined ? await listening : fleet.membersKnown ? fleet.members : undefined
  if (heardBy !== undefined) applied.heardBy = heardBy
  warnIfUnheard(cache, heardBy, logger)
  return applied
}

/**
 * `POST /invalidate` with an invalidation body (see {@link applyInvalidation}) →
 * `{ status: 'invalidated', tags, seq, keys?, fleet?, heard_by? }` (`keys` when some were given;
 * `fleet` in snake_case, with `ack`; `heard_by` with a bus).
 */
export async function invalidateRoute(context: RouteContext) {
  const { cache, request, maxBodyBytes, dashboard, logger } = context
  const { tags, keys, seq, fleet, heardBy } = await applyInvalidation(
    cache,
    request,
    maxBodyBytes,
    false,
    logger,
  )
  // The event stream shows who applied it (the invalidation itself is in the stream already).
  if (fleet !== undefined) dashboard.hub.ack(seq, fleet)
  const answer: InvalidationAnswer = {
    status: 'invalidated',
    tags,
    seq,
    ...(keys.length === 0 ? {} : { keys }),
    ...(fleet === undefined ? {} : { fleet: snakeCase(fleet) as InvalidationAnswer['fleet'] }),
    ...(heardBy === undefined ? {} : { heard_by: heardBy }),
  }
  return json(200, answer)
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
