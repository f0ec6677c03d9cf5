import type { NextFunction, Request, RequestHandler, Response } from 'express'

import { createAdminHandler, createHttpCache, isRead, isWrite } from '../http/index.js'
import type { AdminOptions, HttpCache, HttpCacheOptions, HttpRoute } from '../http/index.js'
import type { RouteCacheOptions } from '../http/index.js'
import { CacheError, type Cache } from '../index.js'
import { adminMiddleware } from './express-admin.js'
import { type HeldResponse, hold } from './express-capture.js'
import { ABANDONED, exchange, routeOf, serve, type State, states } from './express-serve.js'

declare global {
  // Express declares its request and `res.locals` in this global namespace.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The cache given to `cachegraph()`: get/set/invalidate/clear({ pattern }) by hand. */
      cache: Cache
    }
    interface Locals {
      /** The cache given to `cachegraph()`. */
      cache: Cache
    }
  }
}

/** Options of the Express middleware: those of `cachegraph/http`, plus the admin API. */
export type CachegraphExpressOptions = HttpCacheOptions & {
  /**
   * Serves the admin API (docs/admin-api.md) under `prefix` (default `/api/cache`). Refused
   * without `authorize(req)` (it gets the Express request) unless `insecure: true`.
   */
  admin?: Omit<AdminOptions<Request>, 'cache'>
}

/**
 * The cachegraph Express middleware: `app.use(cachegraph({ cache }))` before the routes (and
 * after compression). Routes opt in with {@link cachegraph.route}; successful writes invalidate.
 *
 * @example
 * app.use(cachegraph({ cache }))
 * app.get('/users/:id', cachegraph.route({ ttl: '1m' }), handler)
 */
function middleware(options: CachegraphExpressOptions): RequestHandler {
  const { admin: adminOptions, ...httpOptions } = options
  const http = createHttpCache<Request>({
    onError: (error, context) => console.error('cachegraph: request failed', context, error),
    ...httpOptions,
  })
  const admin =
    adminOptions === undefined
      ? undefined
      : adminMiddleware(
          createAdminHandler<Request>({
            ...adminOptions,
            cache: http.cache,
          } as AdminOptions<Request>),
          adminOptions.prefix ?? '/api/cache',
        )
  const cacheAll = http.route() // the route of a `cacheAll` app's lookups
  const defaults = new Map<string, HttpRoute<Request>>()
  const { cache } = http

  const handle = (req: Request, res: Response, next: NextFunction): void => {
    const state: State = { http, defaults }
    states.set(req, state)
    if (isWrite(req.method)) {
      hold(res as HeldResponse, async (response) => {
        await http.afterWrite(
          state.route ?? routeOf(state, undefined, req),
          exchange(req),
          response,
        )
        return {}
      })
    } else if (cacheAll.caches && isRead(req.method)) {
      return void serve(state, cacheAll, req, res, next).catch(next)
    }
    next()
  }
  return (req, res, next) => {
    req.cache = cache
    res.locals.cache = cache
    if (admin === undefined) return handle(req, res, next)
    admin(req, res, () => handle(req, res, next)).catch(next)
  }
}

/** Checks route options when they are declared (its cache is never used). */
const checker = createHttpCache<Request>({
  cache: { getOrSet: () => undefined, invalidate: () => undefined } as unknown as Cache,
})

/** Per-route options, as route middleware: `app.get(path, cachegraph.route({ ttl }), handler)`. */
function route(options: RouteCacheOptions<Request> = {}): RequestHandler {
  checker.route(options) // invalid options throw here, when the route is declared
  const compiled = new WeakMap<HttpCache<Request>, Map<string, HttpRoute<Request>>>()
  return (req, res, next) => {
    const state = states.get(req)
    if (state === undefined) {
      const message = 'cachegraph: app.use(cachegraph({ cache })) must come before the routes'
      return next(new CacheError('E_INVALID_OPTION', message))
    }
    let routes = compiled.get(state.http)
    if (routes === undefined)
      compiled.set(state.http, (routes = new Map<string, HttpRoute<Request>>()))
    state.route = routeOf(state, options, req, routes)
    // Under `cacheAll`, the app-wide lookup ignored these options: this route takes over.
    state.pending?.hold.restore()
    state.pending?.capture.fail(ABANDONED)
    for (const name of Object.keys(state.added ?? {})) res.removeHeader(name)
    if (!isRead(req.method) || !state.route.caches) return next()
    serve(state, state.route, req, res, next).catch(next)
  }
}

export const cachegraph = Object.assign(middleware, { route })
export default cachegraph
