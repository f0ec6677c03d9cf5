import type { NextFunction, Request, Response } from 'express'

import { Capture, exchangeOf } from '../http/index.js'
import type { HttpCache, HttpRoute, RouteCacheOptions } from '../http/index.js'
import type { ReplayResponse, ServeOutcome } from '../http/index.js'
import { type HeldResponse, type Hold, hold } from './express-capture.js'

/** What the middleware and the route middleware share about one request. */
export interface State {
  http: HttpCache<Request>
  /** Routes by pattern for requests without route options (writes): ids come from the pattern. */
  defaults: Map<string, HttpRoute<Request>>
  /** The options of `cachegraph.route()`, once it ran. */
  route?: HttpRoute<Request>
  /** Under `cacheAll`: the app-wide lookup, until a route's own `cachegraph.route()` takes over. */
  pending?: { hold: Hold; capture: Capture }
  /** Headers the app-wide lookup added (`X-Cache: SKIP`), dropped if a route takes over. */
  added?: Readonly<Record<string, string>>
}

export const states = new WeakMap<Request, State>()
export const ABANDONED = Symbol('cachegraph: taken over by the route')

/** The route of `req` for `options` (none: the defaults), one per route pattern. */
export function routeOf(
  state: State,
  options: RouteCacheOptions<Request> | undefined,
  req: Request,
  routes = state.defaults,
): HttpRoute<Request> {
  const path: unknown = (req.route as { path?: unknown } | undefined)?.path
  const pattern = typeof path === 'string' ? req.baseUrl + path : undefined
  let compiled = routes.get(pattern ?? '')
  if (compiled === undefined) {
    compiled = state.http.route(options, pattern)
    routes.set(pattern ?? '', compiled)
  }
  return compiled
}

/** Serves a GET/HEAD request of `route`: replays a hit, or runs the rest of the chain held. */
export async function serve(
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
  if (outcome.action === 'replay') return replay(res, outcome.response)
  if (outcome.action === 'pass') {
    for (const [name, value] of Object.entries(outcome.headers)) res.setHeader(name, value)
    state.added = outcome.headers
    next()
  }
}

function replay(res: Response, response: ReplayResponse): void {
  res.status(response.status)
  for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value)
  res.end(response.body)
}

/** `req.host` is the forwarded host only under Express's `trust proxy`. */
export const exchange = (req: Request) =>
  exchangeOf(req, req.method, req.originalUrl, req.headers, req.host)
