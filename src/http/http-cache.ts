import type { Cache, GetOrSetOptions } from '../index.js'
import { admit, type Loaded } from './admit.js'
import { isRead, isWrite } from './capture.js'
import { Cdn } from './cdn/cdn.js'
import {
  type HttpCacheOptions,
  type ResolvedHttpOptions,
  resolveHttpOptions,
  type RouteCacheOptions,
} from './options.js'
import { hasDirectives, planOf, requestDirectives } from './plan.js'
import { RefreshGate } from './refresh.js'
import { etagOf, replayOf } from './response.js'
import { compileRoute, type HttpRoute } from './route.js'
import type {
  CacheStatus,
  CapturedResponse,
  HttpExchange,
  ReplayResponse,
  ServeOutcome,
  ServePort,
  StoredResponse,
} from './types.js'
import { writeTagsOf } from './write-tags.js'

/** Stored responses carry this `version`: entries of another shape are ignored, never replayed. */
const VERSION = 'http2'

const status = (value: CacheStatus): Readonly<Record<string, string>> => ({ 'x-cache': value })
const PASS: ServeOutcome = { action: 'pass', headers: {} }
const PASS_SKIP: ServeOutcome = { action: 'pass', headers: status('SKIP') }
const DONE: ServeOutcome = { action: 'done' }
/** The stored responses' version, as `cache.peek` takes it. */
const PEEK = { version: VERSION }

/**
 * The framework-agnostic HTTP response cache. Adapters declare each route once
 * ({@link HttpCache.route}), then per request call {@link HttpCache.serve} for GET/HEAD and
 * {@link HttpCache.afterWrite} for writes, just before the response is sent.
 */
export class HttpCache<R = unknown> {
  readonly #o: ResolvedHttpOptions
  readonly #cdn: Cdn | undefined
  /** What a request that is not stored is answered with (`SKIP`, and no edge caching with a CDN). */
  readonly #skip: Readonly<Record<string, string>>
  readonly #passSkip: ServeOutcome
  readonly #refreshes: RefreshGate
  readonly #routeReads = new WeakMap<HttpRoute<R>, GetOrSetOptions<Loaded>>()
  /** The cache answers fresh hits synchronously (a `Cache`; not a stand-in without `peek`). */
  readonly #peeks: boolean

  constructor(options: HttpCacheOptions) {
    this.#o = resolveHttpOptions(options)
    const { cache, minRefreshMs, cacheNow, cdn } = this.#o
    this.#refreshes = new RefreshGate(cache, minRefreshMs, cacheNow)
    this.#peeks = typeof (cache as Partial<Cache>).peek === 'function'
    this.#cdn =
      cdn === undefined ? undefined : new Cdn(cdn, (error) => this.#purgeFailed(error, undefined))
    this.#skip = { ...this.#cdn?.skipHeaders, ...status('SKIP') }
    this.#passSkip = this.#cdn === undefined ? PASS_SKIP : { action: 'pass', headers: this.#skip }
  }

  /** The cache responses live in. */
  get cache(): Cache {
    return this.#o.cache
  }

  /**
   * Declares a route: its options are checked here, once. `pattern` (`/users/:id`) tells ids
   * from collection names for tags; without it ids are recognised by their look.
   */
  route(config?: RouteCacheOptions<R>, pattern?: string): HttpRoute<R> {
    return compileRoute(this.#o, config, pattern)
  }

  /** The key a GET/HEAD request has on `route`, or `undefined` when it is not cacheable. */
  keyOf(route: HttpRoute<R>, exchange: HttpExchange<R>): string | undefined {
    const plan = planOf(this.#o, route, exchange)
    return typeof plan === 'string' ? undefined : plan.key
  }

  /**
   * The answer to a GET/HEAD request of `route` when it is a fresh hit of this process's memory
   * tier (`cache.peek`), synchronously: no promise, and nothing allocated while the entry's
   * answer of this second is prepared. `undefined`: {@link HttpCache.serve} decides (a miss, a
   * shared-tier hit, a request that asks to refresh, one that is not cacheable).
   */
  hit(route: HttpRoute<R>, exchange: HttpExchange<R>): ReplayResponse | undefined {
    if (!this.#peeks || !route.caches || !isRead(exchange.method)) return undefined
    // `no-cache` may refresh the entry, `no-store` passes it by: serve() judges those.
    if (this.#o.honorNoCache && hasDirectives(exchange)) return undefined
    const plan = planOf(this.#o, route, exchange)
    if (typeof plan === 'string') return undefined
    const loaded = this.#o.cache.peek<Loaded>(plan.key, PEEK)
    return loaded?.kind === 'response' ? this.#replay(loaded, exchange) : undefined
  }

  /**
   * Serves a request of `route`: from the cache, or by running the handler through `port`
   * inside the cache's read-through (concurrent identical requests run it once) and storing its
   * response before it is released. Rejects only with the handler's own error.
   */
  async serve(
    route: HttpRoute<R>,
    exchange: HttpExchange<R>,
    port: ServePort,
  ): Promise<ServeOutcome> {
    const method = exchange.method
    if (!route.caches || !isRead(method)) return PASS
    const plan = planOf(this.#o, route, exchange)
    if (typeof plan === 'string') return this.#passSkip
    const asked = this.#o.honorNoCache ? requestDirectives(exchange) : undefined
    if (asked?.has('no-store') === true) return this.#passSkip
    const bypass =
      asked?.has('no-cache') === true &&
      (await this.#refreshes.allows(plan.key, (error) =>
        this.#report(error, 'http:bypass', exchange),
      ))
    if (bypass) {
      // Dropping the entry first makes the load below run and store the fresh response.
      try {
        await this.#o.cache.delete(plan.key)
      } catch (error) {
        this.#report(error, 'http:bypass', exchange)
      }
    }
    let ran = false
    let captured: CapturedResponse | undefined
    let loaded: Loaded
    try {
      loaded = await this.#o.cache.getOrSet<Loaded>(
        plan.key,
        async (ctx) => {
          ran = true
          captured = await port.run()
          return admit(this.#o, this.#cdn, route, plan, exchange, captured, ctx)
        },
        this.#readOptions(route),
      )
    } catch (error) {
      if (captured !== undefined) {
        // The handler answered but storing failed (a bad route tag, say): answer uncached.
        this.#report(error, 'http:store', exchange)
        port.release(this.#skip)
        return DONE
      }
      if (ran) throw error
      // A load this request joined failed: its error belongs to the other request. Run our own.
      return this.#passSkip
    }
    if (ran) {
      if (loaded.kind !== 'response') port.release(this.#skip)
      // The stored ETag is the app's own when it set one: setting it again changes nothing.
      else {
        port.release({
          // As of when it was stored: the edge gets the whole lifetime, not a second less.
          ...this.#cdn?.headers(loaded.edge, loaded.storedAt),
          'x-cache': bypass ? 'BYPASS' : 'MISS',
          etag: etagOf(loaded),
        })
      }
      return DONE
    }
    // Another request's response that could not be shared (a cookie, an error): run our own.
    if (loaded.kind !== 'response') return this.#passSkip
    return { action: 'replay', response: this.#replay(loaded, exchange) }
  }

  /** What a hit of `stored` sends (with a CDN, plus the edge's headers of now). */
  #replay(stored: StoredResponse, exchange: HttpExchange<R>): ReplayResponse {
    const response = replayOf(this.#o, stored, exchange)
    if (this.#cdn === undefined) return response
    // The replay is shared by the hits of the same second: the edge's headers go on a copy.
    const edge = this.#cdn.headers(stored.edge, this.#o.clock.now())
    return { ...response, headers: { ...response.headers, ...edge } }
  }

  /**
   * Purges `tags` at the edge through the `cdn` option's purger, now and again after
   * `maxSilence` (nothing without a purger). For invalidations made outside HTTP writes (the
   * admin API, a job): call it after `cache.invalidate(tags)`. Never rejects; failures are
   * reported (`onError` with operation `cdn:purge`, and the cache's `error` event).
   */
  purge(tags: readonly string[]): Promise<void> {
    return this.#cdn?.purge(tags) ?? Promise.resolve()
  }

  /**
   * Invalidates what a write changed, when it succeeded (2xx, handler did not throw): call it
   * with the response just before it is sent, and send it once this resolves. Never rejects: a
   * failed invalidation is reported (`onError`; an `error` event of the cache for a store failure).
   */
  async afterWrite(
    route: HttpRoute<R>,
    exchange: HttpExchange<R>,
    response: CapturedResponse,
  ): Promise<void> {
    const method = exchange.method
    if (!route.invalidates || !isWrite(method) || response.failed === true) return
    if (response.status < 200 || response.status > 299) return
    let tags: string[]
    try {
      tags = writeTagsOf(this.#o, route, exchange, response)
    } catch (error) {
      this.#report(error, 'http:invalidate', exchange)
      return
    }
    if (tags.length === 0) return
    const unique = [...new Set(tags)]
    try {
      await this.#o.cache.invalidate(unique, { ack: this.#o.ack })
    } catch (error) {
      // Not recorded in the shared store, yet applied here: the edge is purged all the same.
      this.#report(error, 'http:invalidate', exchange)
    }
    await this.#cdn?.purge(unique, (error) => this.#purgeFailed(error, exchange))
  }

  #purgeFailed(error: unknown, exchange: HttpExchange<R> | undefined): void {
    this.#o.reportToCache(error, 'cdn:purge')
    this.#o.onError?.(error, {
      operation: 'cdn:purge',
      method: exchange?.method ?? '',
      path: exchange?.path ?? '',
      ...(this.#o.logger === undefined ? {} : { logger: this.#o.logger }),
    })
  }

  /** The read-through options of `route`'s lookups, made once per route. */
  #readOptions(route: HttpRoute<R>): GetOrSetOptions<Loaded> {
    let options = this.#routeReads.get(route)
    if (options === undefined) {
      options = { ttl: route.ttl, version: VERSION, grace: 0 }
      this.#routeReads.set(route, options)
    }
    return options
  }

  #report(error: unknown, operation: string, exchange: HttpExchange<R>): void {
    const { logger } = this.#o
    const { method, path } = exchange
    this.#o.onError?.(error, {
      operation,
      method,
      path,
      ...(logger === undefined ? {} : { logger }),
    })
  }
}

/** Creates the HTTP response cache adapters build on. Options are checked here. */
export function createHttpCache<R = unknown>(options: HttpCacheOptions): HttpCache<R> {
  return new HttpCache<R>(options)
}
