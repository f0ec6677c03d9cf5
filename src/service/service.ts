import { invalidOption, isCacheError } from '../errors.js'
import { createAdminHandler } from '../http/admin/handler.js'
import { Cdn } from '../http/cdn/cdn.js'
import { type CdnOption, resolveCdn } from '../http/cdn/options.js'
import { applyInvalidation } from '../http/admin/invalidate.js'
import { type AdminOptions, DEFAULT_MAX_BODY_BYTES } from '../http/admin/options.js'
import { refuseCrossSite } from '../http/admin/origin.js'
import { errorResponse, HttpError, json } from '../http/admin/responses.js'
import { healthOf } from '../protocol/health.js'
import { prometheusMetrics, PROMETHEUS_CONTENT_TYPE } from '../http/metrics.js'
import type { Cache } from '../index.js'
import { checkLogger, type Logger, logError } from '../warnings.js'
import { apiKeyCheck } from './auth.js'

/** Options of {@link createInvalidationService}. */
export interface InvalidationServiceOptions {
  /** The cache to invalidate: with a shared store and a bus, every process's L1 hears it. */
  cache: Cache
  /**
   * The accepted API keys (`x-api-key: KEY` or `Authorization: Bearer KEY`). Several keys allow
   * rotating one without downtime. An empty list requires `insecure: true`.
   */
  apiKeys: readonly string[]
  /** Serve without any API key check (local tries, tests). @default false */
  insecure?: boolean
  /**
   * Largest request body accepted, in bytes; a larger one answers 413.
   * @default 1_048_576 (1 MB)
   */
  maxBodyBytes?: number
  /**
   * The admin API (SPEC §3) and its dashboard (`{prefix}/ui`, docs/dashboard.md) under `prefix`,
   * authorized by the same API keys — a browser is asked for them with Basic authentication (any
   * user name, the key as password). `false` leaves it out.
   * @default { prefix: '/api/cache' }
   */
  admin?: false | Pick<AdminOptions, 'prefix' | 'origins' | 'ui' | 'events'>
  /**
   * Aborting it ends the admin API's open event streams: abort it before the host's graceful
   * close, which would otherwise wait for them.
   */
  signal?: AbortSignal
  /**
   * CDNs to purge after each invalidation (its tags, entities included; not `keys`), once at once
   * and once more after `maxSilence`, as the HTTP core does after a write (docs/cdn.md). A failed
   * purge goes to `onError`; it does not fail the invalidation, which the store already recorded.
   * @example cdn: { vendor: 'fastly', purger: fastlyPurger({ serviceId, apiToken }) }
   */
  cdn?: CdnOption | readonly CdnOption[]
  /** Called with every error behind a 5xx answer, and every failed purge, for logging. */
  onError?: (error: unknown, request: Request) => void
  /**
   * Where the service logs (pino-compatible: `warn`, `error`, `debug`), in place of process
   * warnings: an invalidation no other process heard (`CACHEGRAPH_INVALIDATION_UNHEARD`) at
   * `warn` with its `code`; and, without `onError`, every error `onError` would be called with
   * (an invalidation the store did not record, a failed purge, a 5xx) at `error`, as
   * `{ code?, operation, method, path, err }`.
   * @default the cache's `logger`; without one, process warnings, and errors go to `onError` only
   * @example logger: pino()
   */
  logger?: Logger
}

/** The service: a fetch-style handler that never rejects (every failure is an answer). */
export type InvalidationService = (request: Request) => Promise<Response>

/**
 * The central invalidation service as a fetch-style handler (host it with `listen()` from
 * `./server.js`, or mount it in any server that speaks fetch `Request`/`Response`):
 *
 * | route | answer |
 * |---|---|
 * | `POST /cache/invalidate` | seed body `{ entity_id, entity_type }`, `{ tags }`, `{ keys }` or a list → `{ status: 'invalidated', seq, tags, keys }` |
 * | `GET /health` | `{ status, namespace, store, circuit, bus }` (`src/protocol/health.ts`), no key needed |
 * | `GET /metrics` | Prometheus text, key needed |
 * | `/api/cache/...` | the admin API, key needed |
 *
 * 401 for a missing or wrong key, 400 with a message for a malformed body, 413 past
 * `maxBodyBytes`, 415 for a body that is not JSON, 405 for another method, 503 when the store did
 * not record the invalidation (`E_INVALIDATION_NOT_RECORDED`: applied in this process and queued
 * for replay, but other processes may not have heard of it — the caller should retry).
 *
 * @example
 * const service = createInvalidationService({ cache, apiKeys: [process.env.CACHE_API_KEY!] })
 * const response = await service(new Request('http://x/health'))
 */
export function createInvalidationService(
  options: InvalidationServiceOptions,
): InvalidationService {
  const { cache, apiKeys, insecure = false, onError } = options
  const logger = checkLogger(options.logger, 'service.logger') ?? cache.settings.logger
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  if (!Array.isArray(apiKeys) || apiKeys.some((key) => typeof key !== 'string' || key === '')) {
    throw invalidOption('service.apiKeys', 'must be a list of non-empty strings')
  }
  if (apiKeys.length === 0 && insecure !== true) {
    throw invalidOption('service.apiKeys', 'is empty: give a key, or `insecure: true` on purpose')
  }
  const authorized = apiKeys.length === 0 ? () => true : apiKeyCheck(apiKeys)
  const crossSiteOrigins = new Set(options.admin === false ? [] : (options.admin?.origins ?? []))
  const report = (error: unknown, request: Request, operation: string) => {
    if (onError === undefined) {
      if (logger !== undefined)
        logError(logger, `cachegraph: ${operation} failed`, error, where(request, operation))
      return
    }
    try {
      onError(error, request)
    } catch {
      // A failing logger must not turn an answer into a crash.
    }
  }
  const cdns = (
    Array.isArray(options.cdn) ? options.cdn : options.cdn === undefined ? [] : [options.cdn]
  ).map((option: CdnOption) => new Cdn(resolveCdn(option, undefined), () => {}))
  const admin =
    options.admin === false
      ? undefined
      : createAdminHandler({
          ...options.admin,
          cache,
          maxBodyBytes,
          authorize: authorized,
          prefix: options.admin?.prefix ?? '/api/cache',
          ...(options.signal === undefined ? {} : { signal: options.signal }),
          onError: (error, request) => report(error, request, 'admin'),
          logger,
        })

  const unauthorized = () =>
    json(401, { error: 'cachegraph: missing or wrong API key' }, { 'www-authenticate': 'Bearer' })
  const notAllowed = (request: Request, allow: string) =>
    json(405, { error: `cachegraph: ${request.method} not allowed (allow: ${allow})` }, { allow })

  const invalidate = async (request: Request): Promise<Response> => {
    if (request.method !== 'POST') return notAllowed(request, 'POST')
    // Browsers may hold the key as Basic credentials (the dashboard): no cross-site writes.
    const refusal = refuseCrossSite(request, new URL(request.url), crossSiteOrigins)
    if (refusal !== undefined) return refusal
    if (!authorized(request)) return unauthorized()
    try {
      const { tags, keys, seq, fleet, heardBy } = await applyInvalidation(
        cache,
        request,
        maxBodyBytes,
        ackOf(request),
        logger,
      )
      // Resolves at once unless a CDN option says `awaitPurge`; never rejects.
      const purgeFailed = (error: unknown) => report(error, request, 'cdn:purge')
      await Promise.all(cdns.map((cdn) => cdn.purge(tags, purgeFailed)))
      return json(200, {
        status: 'invalidated',
        seq,
        tags,
        keys,
        ...(fleet && { fleet }),
        ...(heardBy === undefined ? {} : { heard_by: heardBy }),
      })
    } catch (error) {
      if (isCacheError(error, 'E_INVALIDATION_NOT_RECORDED')) {
        report(error, request, 'service:invalidate')
        return json(
          503,
          {
            error:
              'cachegraph: the invalidation was not recorded in the shared store (applied here and queued for replay); retry',
            code: error.code,
          },
          { 'retry-after': '1' },
        )
      }
      const response = errorResponse(error)
      if (response.status >= 500) report(error, request, 'service:invalidate')
      return response
    }
  }

  const route = async (request: Request): Promise<Response> => {
    let path: string
    try {
      path = new URL(request.url).pathname
    } catch {
      return json(400, { error: 'cachegraph: bad request URL' })
    }
    const read = request.method === 'GET' || request.method === 'HEAD'
    switch (path) {
      case '/cache/invalidate':
        return invalidate(request)
      case '/health': {
        if (!read) return notAllowed(request, 'GET, HEAD')
        return json(200, healthOf(cache))
      }
      case '/metrics':
        if (!read) return notAllowed(request, 'GET, HEAD')
        if (!authorized(request)) return unauthorized()
        return new Response(prometheusMetrics(cache), {
          headers: { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' },
        })
    }
    const answer = await admin?.(request)
    if (answer?.status === 401) {
      // So a browser opening the dashboard asks for the key (RFC 7617 §2).
      answer.headers.set('www-authenticate', 'Bearer, Basic realm="cachegraph", charset="UTF-8"')
    }
    return answer ?? json(404, { error: `cachegraph: no route ${request.method} ${path}` })
  }

  return async (request) => {
    let response: Response
    try {
      response = await route(request)
    } catch (error) {
      report(error, request, 'service:request')
      response = errorResponse(error)
    }
    if (request.method !== 'HEAD') return response
    return new Response(null, { status: response.status, headers: response.headers })
  }
}

/** What a logged error says about the request that met it. */
function where(request: Request, operation: string): Record<string, unknown> {
  let path = ''
  try {
    path = new URL(request.url).pathname
  } catch {
    // Logged with an empty path.
  }
  return { operation, method: request.method, path }
}

/**
 * `?ack=1`: answer once every process with a bus has applied the invalidation (or stopped
 * trusting its L1), as `invalidate(tags, { ack: true })` does.
 */
function ackOf(request: Request): boolean {
  const value = new URL(request.url).searchParams.get('ack')
  if (value === null || value === '0' || value === 'false') return false
  if (value === '1' || value === 'true') return true
  throw new HttpError(400, 'cachegraph: `ack` must be 1, true, 0 or false')
}
