import type { Context, MiddlewareHandler, Next } from 'hono'
import { matchedRoutes } from 'hono/route'

import { type AdapterOptions, BodyKinds, capturedFetch, checkRoute } from '../http/adapter/index.js'
import { consoleLog, createAdapterCore, fetchExchange } from '../http/adapter/index.js'
import { replayFetch, RequestFlow, routeOf } from '../http/adapter/index.js'
import { isRead, isWrite } from '../http/index.js'
import type { CapturedResponse, HttpRoute, RouteCacheOptions } from '../http/index.js'
import { CacheError, type Cache } from '../index.js'

/**
 * The variables the middleware sets on the context, for the app's `Variables`:
 * `new Hono<{ Variables: CachegraphVariables }>()` types `c.var.cache` and `c.get('cache')`.
 */
export interface CachegraphVariables {
  /** The cache given to `cachegraph()`: get/set/invalidate/clear({ pattern }) by hand. */
  cache: Cache
}

/** The environment the middleware declares: `new Hono().use(cachegraph({ cache }))` is typed. */
export interface CachegraphEnv {
  Variables: CachegraphVariables
}

/** Options of the Hono middleware: those of `cachegraph/http`, `admin` (gets `c`), and: */
export type CachegraphHonoOptions = AdapterOptions<Context> & {
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
  flow: RequestFlow<Context>
  /** Bodies made by `c.text()`, `c.json()`, `c.html()`, `c.body()` from text or bytes. */
  bodies: BodyKinds
}

const states = new WeakMap<Context, State>()
const ROUTE = Symbol('cachegraph.route')

/**
 * The cachegraph Hono middleware: `app.use(cachegraph({ cache }))` before the routes. Routes opt
 * in with {@link cachegraph.route}; successful writes invalidate. Web `Request`/`Response` only:
 * it runs wherever Hono does (on Node with `@hono/node-server`). Errors go to `app.onError`.
 *
 * @example
 * const app = new Hono<{ Variables: CachegraphVariables }>()
 * app.use(cachegraph({ cache }))
 * app.get('/users/:id', cachegraph.route({ ttl: '1m' }), (c) => c.json(user))
 */
function middleware(options: CachegraphHonoOptions): MiddlewareHandler<CachegraphEnv> {
  const { trustProxy = false, ...rest } = options
  if (typeof trustProxy !== 'boolean') {
    throw new CacheError('E_INVALID_OPTION', 'cachegraph: option `trustProxy` must be a boolean')
  }
  const { http, admin } = createAdapterCore<Context>(rest, consoleLog)
  const cacheAll = http.route()

  return async (c, next) => {
    c.set('cache', http.cache)
    const answer = admin === undefined ? undefined : await admin(c.req.raw, c)
    if (answer !== undefined) return answer
    const exchange = () => fetchExchange<Context>(c, c.req.raw, trustProxy)
    const flow = new RequestFlow(http, exchange, undefined, () => patternOf(c))
    const state: State = { flow, bodies: recordBodies(c) }
    states.set(c, state)
    const method = c.req.method
    if (cacheAll.caches && isRead(method) && !matchedRoutes(c).some(isRouteMiddleware)) {
      const pattern = patternOf(c)
      // No handler matched (a 404 of no route): nothing to cache.
      if (pattern !== undefined) return serve(state, routeOf(http, undefined, pattern), c, next)
    }
    await next()
    if (isWrite(method)) await flow.sending(await captured(c, state))
  }
}

/** Per-route options, as route middleware: `app.get(path, cachegraph.route({ ttl }), handler)`. */
function route(options: RouteCacheOptions<Context> = {}): MiddlewareHandler {
  checkRoute(options) // invalid options throw here, when the route is declared
  const handler: MiddlewareHandler = async (c, next) => {
    const state = states.get(c)
    if (state === undefined) {
      const message = 'cachegraph: app.use(cachegraph({ cache })) must come before the routes'
      throw new CacheError('E_INVALID_OPTION', message)
    }
    state.flow.declare(options, patternOf(c))
    if (!isRead(c.req.method) || !state.flow.route.caches) return next()
    return serve(state, state.flow.route, c, next)
  }
  return Object.assign(handler, { [ROUTE]: true })
}

export const cachegraph = Object.assign(middleware, { route })
export default cachegraph

/** Ours, also when Hono wrapped it (a sub-app with its own error handler keeps it on a symbol). */
const isRouteMiddleware = ({ handler }: { handler: object }): boolean =>
  ROUTE in handler ||
  Object.getOwnPropertySymbols(handler).some((key) => {
    const inner = (handler as Record<symbol, unknown>)[key]
    return typeof inner === 'function' && ROUTE in inner
  })

/** The pattern of the handler that answers (by Hono's convention, one taking no `next`). */
const patternOf = (c: Context): string | undefined =>
  matchedRoutes(c).findLast((r) => r.handler.length < 2)?.path

/** The response as the core sees it; a body not known to be text or bytes is a stream. */
const captured = (c: Context, state: State): Promise<CapturedResponse> =>
  capturedFetch(c.res, state.bodies.of(c.res), c.error !== undefined)

/** Notes which response bodies the context's helpers made from text or bytes. */
function recordBodies(c: Context): BodyKinds {
  const bodies = new BodyKinds()
  const note = (response: Response, data: unknown) => bodies.note(response, data)
  const { body, text, json, html } = c
  c.body = ((data: unknown, ...rest: never[]) =>
    note((body as (...args: unknown[]) => Response)(data, ...rest), data)) as typeof body
  c.text = ((data: string, ...rest: never[]) => note(text(data, ...rest), data)) as typeof text
  c.json = ((data: unknown, ...rest: never[]) =>
    note((json as (...args: unknown[]) => Response)(data, ...rest), '')) as typeof json
  c.html = ((data: unknown, ...rest: never[]) => {
    const made = (html as (...args: unknown[]) => Response | Promise<Response>)(data, ...rest)
    return made instanceof Promise ? made.then((r) => note(r, '')) : note(made, '')
  }) as typeof html
  return bodies
}

/** Serves a GET/HEAD request of `route`: a hit as a `Response`, or the rest of the chain. */
async function serve(state: State, route: HttpRoute<Context>, c: Context, next: Next) {
  const hit = state.flow.hit(route)
  if (hit !== undefined) return replayFetch(hit)
  const addHeaders = (headers: Readonly<Record<string, string>>) => {
    for (const [name, value] of Object.entries(headers)) c.header(name, value)
  }
  let ran: Promise<void> | undefined
  const outcome = await state.flow.lookup(route, () => {
    ran = next().then(async () => addHeaders(await state.flow.sending(await captured(c, state))))
    ran.catch((error: unknown) => state.flow.fail(error))
  })
  if (outcome.action === 'replay') return replayFetch(outcome.response)
  if (outcome.action === 'pass') {
    await next()
    addHeaders(outcome.headers)
  } else await ran
}
