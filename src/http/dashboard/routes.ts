import type { RouteContext } from '../admin/context.js'
import { HttpError, json } from '../admin/responses.js'
import { assetResponse, pageResponse } from './assets.js'

/** `GET {prefix}/ui`: the dashboard (docs/dashboard.md). */
export async function uiRoute({ dashboard }: RouteContext): Promise<Response> {
  if (!dashboard.ui) throw new HttpError(404, 'cachegraph: the dashboard is turned off (admin.ui)')
  return pageResponse(dashboard.prefix)
}

/** `GET {prefix}/ui/:asset`: the page's scripts and styles. */
export async function assetRoute({ dashboard, param }: RouteContext): Promise<Response> {
  const answer = dashboard.ui ? await assetResponse(param) : undefined
  if (answer === undefined)
    throw new HttpError(404, `cachegraph: no dashboard file ${JSON.stringify(param)}`)
  return answer
}

/**
 * `GET {prefix}/events`: server-sent events — `hello`, `stats` (every tick, the heartbeat),
 * `invalidation` (`source: 'local' | 'bus'`), `ack`, `delete`, `bus`, `circuit`, `reset`, and
 * `gap` when a slow reader lost events. 503 past `events.maxStreams` or once closed.
 */
export function eventsRoute({ dashboard }: RouteContext): Response {
  const stream = dashboard.hub.open()
  if (stream === undefined) {
    return json(
      503,
      { error: 'cachegraph: too many event streams open (or the admin API is closed)' },
      { 'retry-after': '5' },
    )
  }
  return new Response(stream, {
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      // nginx would otherwise hold events back to fill its buffer.
      'x-accel-buffering': 'no',
    },
  })
}

/**
 * `GET {prefix}/members` → `{ self: { pid, namespace, store, bus }, members: [{ id, pid, seen_at,
 * age_ms, self }] | null }`: the fleet as `cache.members()` lists it (`null` without a bus).
 */
export async function membersRoute({ cache }: RouteContext): Promise<Response> {
  const bus = cache.stats().bus
  const self = {
    pid: process.pid,
    namespace: cache.name,
    store: cache.storeName ?? null,
    bus: bus === undefined ? null : { trusted: bus.trusted, seq: bus.seq },
  }
  if (bus === undefined) return json(200, { self, members: null })
  const now = Date.now()
  const members = (await cache.members()).map((member) => ({
    id: member.id,
    pid: member.pid ?? null,
    seen_at: new Date(member.seenAt).toISOString(),
    age_ms: Math.max(0, now - member.seenAt),
    self: member.self,
  }))
  return json(200, { self, members })
}
