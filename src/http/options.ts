import { invalidOption } from '../errors.js'
import { checkLogger, type Logger } from '../warnings.js'
import type { Cache, Clock, Duration, EntitySpec } from '../index.js'
import { toMs } from '../util/duration.js'
import { type CdnOption, resolveCdn, type ResolvedCdn } from './cdn/options.js'
import { type CookieFilter, cookieFilter } from './cookies.js'
import { type Freshness, freshnessJudge } from './freshness.js'
import { type HostFilter, hostFilter } from './hosts.js'
import { checkBoolean, checkMode, isUserTag } from './option-checks.js'
import type { EntityTypes, InvalidationMode } from './tags.js'

/**
 * One `varyBy` entry: a request header name (`'accept-language'`), or a function of the
 * framework's request (`(req) => req.user?.id`) returning a string, number, bigint or boolean.
 * Both are read when the route's handler would run — after the app's authentication hooks — and
 * a missing value (`undefined`, `null`, `''`, an absent header) means the response is not
 * cached (`X-Cache: SKIP`).
 */
export type VaryBy<R> = string | ((request: R) => unknown)

/** What a route's `invalidates` function learns about the write's response. */
export interface WriteResponse {
  status: number
  /** The parsed JSON body, when the response was JSON (and within `maxResponseBytes`). */
  body: unknown
}

/** Per-route options (Fastify: `config: { cache: {...} }`). */
export interface RouteCacheOptions<R = unknown> {
  /**
   * Whether GET/HEAD responses of this route are cached. Giving route options opts the route in;
   * `enabled: false` opts it out (also under `cacheAll`).
   * @default true
   */
  enabled?: boolean
  /**
   * Time to live of this route's responses. A response that states a shorter lifetime of its
   * own (`s-maxage`, `max-age`, `Expires`) lives that long instead: the shorter wins.
   * @default the plugin's `ttl`, else the cache's
   */
  ttl?: Duration
  /**
   * Request values that select a variant: header names or functions of the request, read after
   * authentication. Declaring any lets requests with `Authorization` or `Cookie` be cached (per
   * variant): on a route whose responses depend on the caller, name the caller.
   * @example varyBy: ['accept-language', (req) => req.user?.id]
   */
  varyBy?: readonly VaryBy<R>[]
  /**
   * The response is the same for every caller, credentials or not: requests with
   * `Authorization` or `Cookie` may be served from and stored in the cache (RFC 9111 §3.5).
   * @default false
   */
  public?: boolean
  /** Extra tags of this route's responses: a list, or a function of the request. */
  tags?: readonly string[] | ((request: R) => readonly string[])
  /** A prefix for this route's keys (`'v2'` → `v2:GET /items`), to keep their entries apart. */
  keyPrefix?: string
  /**
   * The entity type of ids found in this route's JSON bodies (`'user'`, or
   * `{ type, idField }`), or `false` for none.
   * @default the singular of the path's last collection segment (`/users` → `user`)
   */
  entity?: EntitySpec | false
  /** How a successful write to this route invalidates. @default the plugin's `invalidation` */
  invalidation?: InvalidationMode
  /**
   * Tags a successful write to this route invalidates on top of `invalidation`'s (set
   * `invalidation: false` to use these alone): a list, or a function of the request and response.
   * @example invalidates: (req) => [entityTag('item', req.params.id)]
   */
  invalidates?: readonly string[] | ((request: R, response: WriteResponse) => readonly string[])
}

/** Where a reported failure happened, for `onError`. */
export interface HttpErrorContext {
  /** `'http:invalidate'` (a write's invalidation), `'http:store'`, `'http:bypass'`. */
  operation: string
  method: string
  path: string
  /** The `logger` option, else the cache's: the adapters' default `onError` logs there. */
  logger?: Logger
}

/** Options of {@link createHttpCache}, and of every framework adapter. */
export interface HttpCacheOptions {
  /** The cache responses are stored in; its `stats()` count HTTP hits and misses. */
  cache: Cache
  /** Cache every GET/HEAD route that does not opt out, not only those that opt in. @default false */
  cacheAll?: boolean
  /**
   * Default time to live of responses; one that states a shorter lifetime of its own
   * (`s-maxage`, `max-age`, `Expires`; RFC 9111 §4.2.1) lives that long instead.
   * @default the cache's `ttl`
   */
  ttl?: Duration
  /**
   * Responses with a larger body are not stored (`X-Cache: SKIP`) and pass through untouched.
   * @default 10_485_760 (10 MB)
   */
  maxResponseBytes?: number
  /**
   * Status codes that may be stored — within those RFC 9111 lets a shared cache store (a status
   * the HTTP policy does not understand, such as 500 or 206, is never stored).
   * @default [200, 203, 204, 300, 301, 404, 410]
   */
  statuses?: readonly number[]
  /**
   * What a 2xx response to POST/PUT/PATCH/DELETE invalidates: `'precise'` (the resource, its
   * subtree, its collection, its parent, its entity), `'hierarchical'` (every ancestor's subtree,
   * the seed library's rule) or `false` (nothing; routes may still list `invalidates`).
   * @default 'precise'
   */
  invalidation?: InvalidationMode
  /**
   * Entity type of a collection segment, where its singular is not right, or `false` for none.
   * @example entityTypes: { people: 'person', stats: false }
   */
  entityTypes?: EntityTypes
  /**
   * A request's `Cache-Control: no-cache` (or `Pragma: no-cache`) runs the handler and refreshes
   * the entry (`X-Cache: BYPASS`) — at most once per key per `minRefresh`; `no-store` keeps the
   * request away from the cache. Anyone can send these: turn it off where clients must not be
   * able to force recomputations at all.
   * @default true
   */
  honorNoCache?: boolean
  /**
   * A client's `no-cache` refreshes a key at most once per this long: not when this process
   * refreshed it less than `minRefresh` ago, nor when its entry is younger than that (stored by
   * any process). More often it is served like any request (`HIT`), so a client cannot turn
   * each request into a handler run, a store write and a fleet-wide bus message. `0`: every
   * `no-cache` refreshes.
   * @default '1s'
   */
  minRefresh?: Duration
  /**
   * Request cookies that never personalise a response (analytics, consent): exact names, or
   * prefixes written `'_ga_*'`. A request with any other cookie is not served from nor stored in
   * the cache (`X-Cache: SKIP`) unless the route is `public` or declares `varyBy`.
   * `ANALYTICS_COOKIES` lists the common ones; check that no handler reads those you list.
   * @default [] (every cookie counts)
   * @example ignoredCookies: ANALYTICS_COOKIES
   * @example ignoredCookies: ['_ga', '_ga_*', '_gid', '_fbp', 'OptanonConsent']
   */
  ignoredCookies?: readonly string[]
  /**
   * The only hosts whose responses are cached: `'shop.example'` (any port),
   * `'shop.example:8443'` (that port), `'*.tenants.example'` (its subdomains). Any other host —
   * and a request without one — is `SKIP`. The host is the request's `Host`, or the forwarded
   * host where the framework trusts the proxy (see docs/http.md).
   * @default every host, each under keys of its own
   */
  hosts?: readonly string[]
  /**
   * A write's response is sent only once every process with a bus on the cache's store has
   * applied its invalidation (`invalidate(tags, { ack: true })`, docs/fleet.md): the next request
   * anywhere in the fleet sees the write, even one served from another process's memory.
   * @default false
   */
  ack?: boolean
  /** More response headers never stored nor replayed (per-request ids, say). */
  dropHeaders?: readonly string[]
  /** Time source of `Age`. @default the wall clock */
  clock?: Clock
  /**
   * Failures that do not fail the request: a write's invalidation that the shared store did not
   * record (`E_INVALIDATION_NOT_RECORDED`, also an `error` event of the cache), a response that
   * could not be stored. @default none (adapters log them)
   */
  onError?: (error: unknown, context: HttpErrorContext) => void
  /**
   * Where the adapters' default `onError` logs (pino-compatible: `warn`, `error`, `debug`), in
   * place of `console.error`. Fastify's adapter logs to the request's logger as before.
   * @default the cache's `logger`, else the console
   */
  logger?: Logger
  /**
   * The CDN in front of the app (`'fastly'`, `'cloudflare'`, `'varnish'`, `'akamai'`): cached
   * responses carry their tags in its header, and with a `purger` a write's invalidation also
   * purges the edge (again after `maxSilence`). See docs/cdn.md.
   * @example cdn: { vendor: 'fastly', purger: fastlyPurger({ serviceId, apiToken }) }
   */
  cdn?: CdnOption
}

export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024
export const DEFAULT_STATUSES: readonly number[] = [200, 203, 204, 300, 301, 404, 410]
export const DEFAULT_MIN_REFRESH_MS = 1_000

/** Options checked and filled in, once. */
export interface ResolvedHttpOptions {
  cache: Cache
  cacheAll: boolean
  ttl: Duration | undefined
  maxResponseBytes: number
  statuses: ReadonlySet<number>
  invalidation: InvalidationMode
  entityTypes: EntityTypes
  honorNoCache: boolean
  /** `minRefresh` in ms. */
  minRefreshMs: number
  /** Whether a request cookie is one `ignoredCookies` names. */
  ignoredCookie: CookieFilter
  /** Whether a host may be cached (`hosts`). */
  hostAllowed: HostFilter
  /** What a response's own headers allow (RFC 9111), by `clock`. */
  freshness: (
    status: number,
    headers: Readonly<Record<string, string | readonly string[]>>,
  ) => Freshness
  ack: boolean
  dropHeaders: ReadonlySet<string>
  clock: Clock
  onError: ((error: unknown, context: HttpErrorContext) => void) | undefined
  logger: Logger | undefined
  cdn: ResolvedCdn | undefined
  /** The cache's default ttl in ms (edge lifetimes of responses without their own). */
  defaultTtlMs: number
  /** The cache's clock (input expiries are by it). */
  cacheNow: () => number
  /** Reports to the cache's `error` event. */
  reportToCache: (error: unknown, operation: string) => void
}

const wallClock: Clock = { now: () => Date.now() }

export function resolveHttpOptions(options: HttpCacheOptions): ResolvedHttpOptions {
  if (typeof options !== 'object' || options === null) {
    throw invalidOption('cache', 'is required: pass { cache: createCache() }')
  }
  const { cache } = options
  if (
    typeof cache !== 'object' ||
    cache === null ||
    typeof cache.getOrSet !== 'function' ||
    typeof cache.invalidate !== 'function'
  ) {
    throw invalidOption('cache', 'must be a cache made by createCache()')
  }
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES
  if (
    typeof maxResponseBytes !== 'number' ||
    !(Number.isInteger(maxResponseBytes) || maxResponseBytes === Infinity) ||
    maxResponseBytes < 0
  ) {
    throw invalidOption('maxResponseBytes', 'must be an integer >= 0 (bytes)')
  }
  const statuses = options.statuses ?? DEFAULT_STATUSES
  if (
    !Array.isArray(statuses) ||
    !statuses.every((s) => Number.isInteger(s) && (s as number) >= 100 && (s as number) <= 599)
  ) {
    throw invalidOption('statuses', 'must be a list of HTTP status codes')
  }
  if (options.ttl !== undefined) toMs(options.ttl, 'ttl')
  checkBoolean(options.cacheAll, 'cacheAll')
  checkBoolean(options.honorNoCache, 'honorNoCache')
  const minRefreshMs =
    options.minRefresh === undefined
      ? DEFAULT_MIN_REFRESH_MS
      : toMs(options.minRefresh, 'minRefresh')
  checkBoolean(options.ack, 'ack')
  const invalidation = checkMode(options.invalidation ?? 'precise', 'invalidation')
  const entityTypes = options.entityTypes ?? {}
  if (typeof entityTypes !== 'object' || entityTypes === null) {
    throw invalidOption('entityTypes', 'must be an object like { people: "person" }')
  }
  for (const [segment, type] of Object.entries(entityTypes)) {
    if (type !== false && !isUserTag(type)) {
      throw invalidOption(`entityTypes.${segment}`, 'must be an entity type or false')
    }
  }
  const dropHeaders = options.dropHeaders ?? []
  if (!Array.isArray(dropHeaders) || !dropHeaders.every((h) => typeof h === 'string')) {
    throw invalidOption('dropHeaders', 'must be a list of header names')
  }
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    throw invalidOption('onError', 'must be a function')
  }
  const clock = options.clock ?? wallClock
  if (typeof clock?.now !== 'function') throw invalidOption('clock', 'must have a now() method')
  // A stand-in cache (the adapters' route checker) has neither: defaults then.
  const host = cache as Partial<Pick<Cache, 'settings' | 'reportError'>>
  const settings = host.settings
  const cdn =
    options.cdn === undefined ? undefined : resolveCdn(options.cdn, settings?.maxSilenceMs)
  return {
    cache,
    cdn,
    defaultTtlMs: settings?.ttlMs ?? 300_000,
    cacheNow: settings === undefined ? Date.now : () => settings.clock.now(),
    reportToCache: (error, operation) => host.reportError?.(error, operation),
    cacheAll: options.cacheAll ?? false,
    ttl: options.ttl,
    maxResponseBytes,
    statuses: new Set(statuses),
    invalidation,
    entityTypes,
    honorNoCache: options.honorNoCache ?? true,
    minRefreshMs,
    ignoredCookie: cookieFilter(options.ignoredCookies),
    hostAllowed: hostFilter(options.hosts),
    freshness: freshnessJudge(clock),
    ack: options.ack ?? false,
    dropHeaders: new Set(dropHeaders.map((h) => h.toLowerCase())),
    clock,
    onError: options.onError,
    logger: checkLogger(options.logger) ?? settings?.logger,
  }
}
