import { pipeline } from 'node:stream'

import type { NextFunction, Request, RequestHandler, Response } from 'express'

import {
  type AdapterOptions,
  checkRoute,
  consoleLog,
  createAdapterCore,
} from '../http/adapter/index.js'
import { fetchRequestOf, type HeldResponse, type Hold, hold } from '../http/adapter/index.js'
import { nodeAnswer, routeOf, underPrefix } from '../http/adapter/index.js'
import { Capture, exchangeOf, isRead, isWrite } from '../http/index.js'
import type { HttpCache, HttpRoute, RouteCacheOptions, ServeOutcome } from '../http/index.js'
import { CacheError, type Cache } from '../index.js'

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

/** Options of the Express middleware: those of `cachegraph/http`, plus `admin` (gets `req`). */
export type CachegraphExpressOptions = AdapterOptions<Request>

/** What the middleware and the route middleware share about one request. */
interface State {
  http: HttpCache<Request>
  /** The options of `cachegraph.route()`, once it ran. */
  route?: HttpRoute<Request>
  /** Under `cacheAll`: the app-wide lookup, until a route's own `cachegraph.route()` takes over. */
  pending?: { hold: Hold; capture: Capture }
  /** Headers the app-wide lookup added (`X-Cache: SKIP`), dropped if a route takes over. */
  added?: Readonly<Record<string, string>>
}

const states = new WeakMap<Request, State>()
const ABANDONED = Symbol('cachegraph: taken over by the route')

/**
 * The cachegraph Express middleware: `app.use(cachegraph({ cache }))` before the routes (and
 * after compression). Routes opt in with {@link cachegraph.route}; successful writes invalidate.
 *
 * @example
 * app.use(cachegraph({ cache }))
 * app.get('/users/:id', cachegraph.route({ ttl: '1m' }), handler)
 */
function middleware(options: CachegraphExpressOptions): RequestHandler {
  const { http, admin, adminPrefix } = createAdapterCore<Request>(options, consoleLog)
  const cacheAll = http.route() // the route of a `cacheAll` app's lookups
  const { cache } = http

  const handle = (req: Request, res: Response, next: NextFunction): void => {
    const state: State = { http }
    states.set(req, state)
    if (isWrite(req.method)) {
      hold(res as HeldResponse, async (response) => {
        await http.afterWrite(
          state.route ?? routeOf(http, undefined, patternOf(req)),
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
    // Outside the prefix the body must stay unread, for the app's own parsers.
    if (admin === undefined || !underPrefix(req.originalUrl.split('?', 1)[0] ?? '', adminPrefix)) {
      return handle(req, res, next)
    }
    // A body parser that ran before is honoured; else the body is streamed.
    void admin(fetchRequestOf(req, req.originalUrl, req.body, true), req)
      .then(async (answer) => {
        if (answer === undefined) return handle(req, res, next)
        const { status, headers, body } = await nodeAnswer(answer, req.httpVersionMajor)
        res.status(status)
        for (const [name, value] of headers) res.setHeader(name, value)
        if (Buffer.isBuffer(body)) res.end(body)
        else pipeline(body, res, () => {})
      })
      .catch(next)
  }
}

/** Per-route options, as route middleware: `app.get(path, cachegraph.route({ ttl }), handler)`. */
function route(options: RouteCacheOptions<Request> = {}): RequestHandler {
  checkRoute(options) // invalid options throw here, when the route is declared
  return (req, res, next) => {
    const state = states.get(req)
    if (state === undefined) {
      const message = 'cachegraph: app.use(cachegraph({ cache })) must come before the routes'
      return next(new CacheError('E_INVALID_OPTION', message))
    }
    state.route = routeOf(state.http, options, patternOf(req))
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

/** Serves a GET/HEAD request of `route`: replays a hit, or runs the rest of the chain held. */
async function serve(
  state: State,
  route: HttpRoute<Request>,
  req: Request,
  res: Response,
  next: NextFunction,
): Promise<void> {
  const capture = new Capture()
  const port = {
    run: () => {
      // A response no route produced (a 404 of no route, an error handler's) is never stored.
      const held = hold(res as HeldResponse, (response) =>
        capture.offer({ ...response, failed: req.route === undefined }),
      )
      if (state.route === undefined) state.pending = { hold: held, capture }
      next()
      return capture.response
    },
    release: (headers: Readonly<Record<string, string>>) => capture.release(headers),
  }
  let outcome: ServeOutcome
  try {
    outcome = await state.http.serve(route, exchange(req), port)
  } catch (error) {
    if (error === ABANDONED) return
    throw error
  } finally {
    if (state.pending?.capture === capture) state.pending = undefined
  }
  if (outcome.action === 'replay') {
    const { status, headers, body } = outcome.response
    res.status(status)
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value)
    res.end(body)
  } else if (outcome.action === 'pass') {
    for (const [name, value] of Object.entries(outcome.headers)) res.setHeader(name, value)
    state.added = outcome.headers
    next()
  }
}

/** The route pattern Express matched (`/users/:id` under its router's base), if any. */
function patternOf(req: Request): string | undefined {
  const path: unknown = (req.route as { path?: unknown } | undefined)?.path
  return typeof path === 'string' ? req.baseUrl + path : undefined
}

/** `req.host` is the forwarded host only under Express's `trust proxy`. */
const exchange = (req: Request) =>
  exchangeOf(req, req.method, req.originalUrl, req.headers, req.host)
