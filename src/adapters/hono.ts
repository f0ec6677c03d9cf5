import type { Context, MiddlewareHandler, Next } from 'hono'
import { matchedRoutes } from 'hono/route'

import { createAdminHandler, createHttpCache, isRead, isWrite } from '../http/index.js'
import type { AdminOptions, HttpCache, HttpCacheOptions } from '../http/index.js'
import type { HttpRoute, RouteCacheOptions } from '../http/index.js'
import { CacheError, type Cache } from '../index.js'
import { type Bodies, captured, exchange, recordBodies } from './hono-response.js'

declare module 'hono' {
  interface ContextVariableMap {
    /** The cache given to `cachegraph()`: get/set/invalidate/clear({ pattern }) by hand. */
    cache: Cache
  }
}

/** Options of the Hono middleware: those of `cachegraph/http`, plus the admin API. */
export type CachegraphHonoOptions = HttpCacheOptions & {
  /**
   * Serves the admin API (docs/admin-api.md) under `prefix` (default `/api/cache`). Refused
   * without `authorize(c)` (it gets the Hono context) unless `insecure: true`.
   */
  admin?: Omit<AdminOptions<Context>, 'cache'>
  /**
   * The app runs behind a proxy it trusts to set `X-Forwarded-Host`: the host of each key is
   * that header's last entry instead of `Host`. Hono has no setting of its own for this (Fastify
   * has `trustProxy`, Express `trust proxy`). Without it, a request whose `X-Forwarded-Host`
   * names another host is never cached (docs/http.md).
   * @default false
   */
  trustProxy?: boolean
}

interface State {
  http: HttpCache<Context>
  trustProxy: boolean
  /** Routes by pattern for requests without route options: ids come from the pattern. */
  defaults: Map<string, HttpRoute<Context>>
  /** The options of `cachegraph.route()`, once it ran. */
  route?: HttpRoute<Context>
  bodies: Bodies
}

const states = new WeakMap<Context, State>()
const ROUTE = Symbol('cachegraph.route')

/**
 * The cachegraph Hono middleware: `app.use(cachegraph({ cache }))` before the routes. Routes opt
 * in with {@link cachegraph.route}; successful writes invalidate. Web `Request`/`Response` only:
 * it runs wherever Hono does (on Node with `@hono/node-server`).
 *
 * @example
 * app.use(cachegraph({ cache }))
 * app.get('/users/:id', cachegraph.route({ ttl: '1m' }), (c) => c.json(user))
 */
function middleware(options: CachegraphHonoOptions): MiddlewareHandler {
  const { admin: adminOptions, trustProxy = false, ...httpOptions } = options
  if (typeof trustProxy !== 'boolean') {
    throw new CacheError('E_INVALID_OPTION', 'cachegraph: option `trustProxy` must be a boolean')
  }
  const http = createHttpCache<Context>({
    onError: (error, context) => console.error('cachegraph: request failed', context, error),
    ...httpOptions,
  })
  const admin =
    adminOptions === undefined
      ? undefined
      : createAdminHandler<Context>({ ...adminOptions, cache: http.cache } as AdminOptions<Context>)
  const cacheAll = http.route()
  const defaults = new Map<string, HttpRoute<Context>>()
  const { cache } = http

  return async (c, next) => {
    c.set('cache', cache)
    const answer = admin === undefined ? undefined : await admin(c.req.raw, c)
    if (answer !== undefined) return answer
    const state: State = { http, trustProxy, defaults, bodies: recordBodies(c) }
    states.set(c, state)
    const routes = matchedRoutes(c)
    const method = c.req.method
    if (cacheAll.caches && isRead(method) && !routes.some((r) => isRouteMiddleware(r.handler))) {
      const pattern = patternOf(c)
      // No handler matched (a 404 of no route): nothing to cache.
      if (pattern !== undefined) return serve(state, routeOf(state, undefined, pattern), c, next)
    }
    await next()
    if (isWrite(method)) {
      const route = state.route ?? routeOf(state, undefined, patternOf(c))
      await http.afterWrite(route, exchange(c, trustProxy), await captured(c, state.bodies))
    }
  }
}

/** Checks route options when they are declared (its cache is never used). */
const checker = createHttpCache<Context>({
  cache: { getOrSet: () => undefined, invalidate: () => undefined } as unknown as Cache,
})

/** Per-route options, as route middleware: `app.get(path, cachegraph.route({ ttl }), handler)`. */
function route(options: RouteCacheOptions<Context> = {}): MiddlewareHandler {
  checker.route(options) // invalid options throw here, when the route is declared
  const compiled = new WeakMap<HttpCache<Context>, Map<string, HttpRoute<Context>>>()
  const handler: MiddlewareHandler = async (c, next) => {
    const state = states.get(c)
    if (state === undefined) {
      const message = 'cachegraph: app.use(cachegraph({ cache })) must come before the routes'
      throw new CacheError('E_INVALID_OPTION', message)
    }
    let routes = compiled.get(state.http)
    if (routes === undefined)
      compiled.set(state.http, (routes = new Map<string, HttpRoute<Context>>()))
    state.route = routeOf(state, options, patternOf(c), routes)
    if (!isRead(c.req.method) || !state.route.caches) return next()
    return serve(state, state.route, c, next)
  }
  return Object.assign(handler, { [ROUTE]: true })
}

export const cachegraph = Object.assign(middleware, { route })
export default cachegraph

/** Ours, also when Hono wrapped it (a sub-app with its own error handler keeps it on a symbol). */
const isRouteMiddleware = (handler: object): boolean =>
  ROUTE in handler ||
  Object.getOwnPropertySymbols(handler).some((key) => {
    const inner = (handler as Record<symbol, unknown>)[key]
    return typeof inner === 'function' && ROUTE in inner
  })

/** The pattern of the handler that answers (by Hono's convention, one taking no `next`). */
const patternOf = (c: Context): string | undefined =>
  matchedRoutes(c).findLast((r) => r.handler.length < 2)?.path

function routeOf(
  state: State,
  options: RouteCacheOptions<Context> | undefined,
  pattern: string | undefined,
  routes = state.defaults,
): HttpRoute<Context> {
  let compiled = routes.get(pattern ?? '')
  if (compiled === undefined) {
    compiled = state.http.route(options, pattern)
    routes.set(pattern ?? '', compiled)
  }
  return compiled
}

async function serve(
  state: State,
  route: HttpRoute<Context>,
  c: Context,
  next: Next,
): Promise<Response | undefined> {
  const addHeaders = (headers: Readonly<Record<string, string>>) => {
    for (const [name, value] of Object.entries(headers)) c.header(name, value)
  }
  const port = {
    run: async () => {
      await next()
      return captured(c, state.bodies)
    },
    release: addHeaders,
  }
  const outcome = await state.http.serve(route, exchange(c, state.trustProxy), port)
  if (outcome.action === 'pass') {
    await next()
    addHeaders(outcome.headers)
  }
  if (outcome.action !== 'replay') return undefined
  const { status, headers, body } = outcome.response
  const replayed = new Headers()
  for (const [name, value] of Object.entries(headers)) {
    for (const item of typeof value === 'string' ? [value] : value) replayed.append(name, item)
  }
  return new Response(body ?? null, { status, headers: replayed })
}
