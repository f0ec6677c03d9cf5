import { pipeline } from 'node:stream'

import type { NextFunction, Request, RequestHandler, Response } from 'express'

import { adminAnswer, type AdapterOptions, checkRoute } from '../http/adapter/index.js'
import { consoleLog, createAdapterCore, type HeldResponse, hold } from '../http/adapter/index.js'
import { RequestFlow, underPrefix } from '../http/adapter/index.js'
import { exchangeOf, isRead, isWrite } from '../http/index.js'
import type { HttpRoute, ReplayResponse, RouteCacheOptions } from '../http/index.js'
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

type Flow = RequestFlow<Request>

/** Each request's flow, for `cachegraph.route()`. */
const flows = new WeakMap<Request, Flow>()

/**
 * The cachegraph Express middleware (Express 5 and 4): `app.use(cachegraph({ cache }))` before
 * the routes (and after compression). Routes opt in with {@link cachegraph.route}; successful
 * writes invalidate.
 *
 * @example
 * app.use(cachegraph({ cache }))
 * app.get('/users/:id', cachegraph.route({ ttl: '1m' }), handler)
 */
function middleware(options: CachegraphExpressOptions): RequestHandler {
  const { http, admin, adminPrefix } = createAdapterCore<Request>(options, consoleLog)
  const cacheAll = http.route() // the route of a `cacheAll` app's lookups

  const handle = (req: Request, res: Response, next: NextFunction): void => {
    const flow = new RequestFlow(
      http,
      () => exchange(req),
      undefined,
      () => patternOf(req),
    )
    flows.set(req, flow)
    if (isWrite(req.method)) hold(res as HeldResponse, async (response) => flow.sending(response))
    else if (cacheAll.caches && isRead(req.method)) return serve(flow, cacheAll, req, res, next)
    next()
  }
  return (req, res, next) => {
    req.cache = res.locals.cache = http.cache
    // Outside the prefix the body must stay unread, for the app's own parsers.
    if (admin === undefined || !underPrefix(req.originalUrl.split('?', 1)[0] ?? '', adminPrefix)) {
      return handle(req, res, next)
    }
    // A body parser that ran before is honoured; else the body is streamed.
    void adminAnswer(admin, req, req, req.originalUrl, req.body, true)
      .then((sent) => {
        if (sent === undefined) return handle(req, res, next)
        res.status(sent.status)
        for (const [name, value] of sent.headers) res.setHeader(name, value)
        if (Buffer.isBuffer(sent.body)) res.end(sent.body)
        else pipeline(sent.body, res, () => {})
      })
      .catch(next)
  }
}

/** Per-route options, as route middleware: `app.get(path, cachegraph.route({ ttl }), handler)`. */
function route(options: RouteCacheOptions<Request> = {}): RequestHandler {
  checkRoute(options) // invalid options throw here, when the route is declared
  return (req, res, next) => {
    const flow = flows.get(req)
    if (flow === undefined) {
      const message = 'cachegraph: app.use(cachegraph({ cache })) must come before the routes'
      return next(new CacheError('E_INVALID_OPTION', message))
    }
    // Under `cacheAll`, the app-wide lookup ignored these options: this route takes over.
    const added = flow.declare(options, patternOf(req))
    for (const name of Object.keys(added)) res.removeHeader(name)
    if (!isRead(req.method) || !flow.route.caches) return next()
    serve(flow, flow.route, req, res, next)
  }
}

export const cachegraph = Object.assign(middleware, { route })
export default cachegraph

/** Serves a GET/HEAD request of `route`: replays a hit, or runs the rest of the chain held. */
function serve(
  flow: Flow,
  route: HttpRoute<Request>,
  req: Request,
  res: Response,
  next: NextFunction,
): void {
  const hit = flow.hit(route)
  if (hit !== undefined) return replay(res, hit)
  const run = (undoable: (undo: () => void) => void) => {
    // A response no route produced (a 404 of no route, an error handler's) is never stored.
    const held = hold(res as HeldResponse, async (response) =>
      flow.sending({ ...response, failed: req.route === undefined }),
    )
    undoable(() => held.restore())
    next()
  }
  flow
    .lookup(route, run)
    .then((outcome) => {
      if (outcome.action === 'replay') replay(res, outcome.response)
      else if (outcome.action === 'pass') {
        for (const [name, value] of Object.entries(outcome.headers)) res.setHeader(name, value)
        next()
      }
    })
    .catch(next)
}

function replay(res: Response, { status, headers, body }: ReplayResponse): void {
  res.status(status)
  for (const name in headers) res.setHeader(name, headers[name] as string | readonly string[])
  res.end(body)
}

/** The route pattern Express matched (`/users/:id` under its router's base), if any. */
function patternOf(req: Request): string | undefined {
  const path: unknown = (req.route as { path?: unknown } | undefined)?.path
  return typeof path === 'string' ? req.baseUrl + path : undefined
}

/**
 * The request as the core sees it. Its host is Express 5's `req.host` (the forwarded host only
 * under `trust proxy`), computed here the same way so that Express 4, whose `req.host` drops
 * the port, gives the same keys.
 */
function exchange(req: Request) {
  const trust = req.app.get('trust proxy fn') as (
    address: string | undefined,
    hop: number,
  ) => boolean
  const forwarded = req.get('x-forwarded-host')
  const host =
    forwarded && trust(req.socket.remoteAddress, 0)
      ? forwarded.split(',')[0]?.trimEnd()
      : req.get('host')
  return exchangeOf(req, req.method, req.originalUrl, req.headers, host)
}
