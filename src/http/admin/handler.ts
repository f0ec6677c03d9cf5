import { EventHub } from '../dashboard/event-hub.js'
import type { DashboardContext, RouteContext } from './context.js'
import { type AdminOptions, resolveAdminOptions } from './options.js'
import { refuseCrossSite } from './origin.js'
import { decodePart } from './params.js'
import { errorResponse, isClientError, json } from './responses.js'
import { allowOf, matchRoute } from './routes.js'

/**
 * A fetch-style admin handler: the answer, or `undefined` when the path is not under the prefix
 * (so the host can try its other routes). It never rejects: every failure is an answer.
 * Adapters pass the framework's own request as `original`, which `authorize` then receives.
 */
export type AdminHandler<R = Request> = (
  request: Request,
  ...original: Request extends R ? [original?: R] : [original: R]
) => Promise<Response | undefined>

/**
 * Creates the admin API of `cache` (SPEC §3), mounted under `prefix`:
 *
 * | route | answer |
 * |---|---|
 * | `GET /keys?pattern=&cursor=&count=` | `{ keys: [{ key, ttl, namespace }], cursor }`, cursor `0` = done |
 * | `GET /keys/:key` / `DELETE /keys/:key` | inspect (404 when absent) / delete; `?namespace=` for a child's key |
 * | `POST /clear?pattern=` | `{ status: 'cleared', ... }`: the namespace, or the keys matching |
 * | `POST /invalidate` | `{ tags }` or `{ entity_type, entity_id }` → `{ status: 'invalidated', tags, seq }` |
 * | `GET /tags/:tag` | `{ tag, keys }`: this process's L1 keys depending on it |
 * | `GET /stats` / `GET /health` / `GET /metrics` | snake_case stats / `{ status, namespace, ... }` / Prometheus text |
 * | `GET /ui` / `GET /events` / `GET /members` | the dashboard / its server-sent events / `{ self, members }` |
 *
 * A state-changing request (POST, DELETE) whose `Origin` is not the API's own nor in `origins`
 * answers 403, one with a body that is not JSON 415; without `Origin` (servers, the CLI) they go
 * on. No CORS headers are ever sent. Throws `CacheError('E_INVALID_OPTION')` when neither `authorize` nor `insecure: true` is
 * given. See docs/admin-api.md.
 *
 * @example
 * const admin = createAdminHandler({ cache, authorize: (req) => req.headers.get('x-admin-key') === key })
 * const response = (await admin(request)) ?? (await app(request))
 */
export function createAdminHandler<R = Request>(options: AdminOptions<R>): AdminHandler<R> {
  const resolved = resolveAdminOptions(options)
  const { cache, prefix, maxBodyBytes, authorize, onError, origins } = resolved
  const dashboard: DashboardContext = {
    hub: new EventHub(cache, resolved.events),
    ui: resolved.ui,
    prefix,
  }
  const report = (error: unknown, request: Request) => {
    try {
      onError?.(error, request)
    } catch {
      // A failing logger must not turn an answer into a crash.
    }
  }

  const answer = async (request: Request, original: R | undefined) => {
    let url: URL
    try {
      url = new URL(request.url)
    } catch {
      return undefined
    }
    const path = url.pathname
    if (path !== prefix && !path.startsWith(`${prefix}/`)) return undefined

    // Before `authorize`: a forged cross-site request is refused whatever credentials it carries.
    const refusal = refuseCrossSite(request, url, origins)
    if (refusal !== undefined) return refusal

    if (authorize !== undefined) {
      let allowed: boolean
      try {
        allowed = (await authorize((original ?? request) as R)) === true
      } catch (error) {
        report(error, request)
        return json(500, { error: 'cachegraph: the authorization check failed' })
      }
      if (!allowed) return json(401, { error: 'cachegraph: not authorized' })
    }

    const route = matchRoute(path.slice(prefix.length))
    if (route === undefined) {
      return json(404, { error: `cachegraph: no admin route ${request.method} ${path}` })
    }
    const method = request.method === 'HEAD' ? 'GET' : request.method
    const handle = route.methods[method as keyof typeof route.methods]
    if (handle === undefined) {
      const allow = allowOf(route.methods)
      return json(
        405,
        { error: `cachegraph: ${request.method} not allowed (allow: ${allow})` },
        { allow },
      )
    }

    let response: Response
    try {
      const context: RouteContext = {
        cache,
        request,
        query: url.searchParams,
        param: route.paramName === '' ? '' : decodePart(route.rawParam, route.paramName),
        maxBodyBytes,
        dashboard,
        logger: resolved.logger,
      }
      response = await handle(context)
    } catch (error) {
      if (!isClientError(error)) report(error, request)
      response = errorResponse(error)
    }
    return response
  }

  const handler = async (request: Request, original?: R) => {
    const response = await answer(request, original)
    if (response === undefined || request.method !== 'HEAD') return response
    // An event stream's body would otherwise stay subscribed with no one to read it.
    await response.body?.cancel()
    return new Response(null, { status: response.status, headers: response.headers })
  }
  resolved.signal?.addEventListener('abort', () => dashboard.hub.close(), { once: true })
  if (resolved.signal?.aborted === true) dashboard.hub.close()
  return handler
}
