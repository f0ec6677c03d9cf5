import type { Context, MiddlewareHandler, Next } from 'hono'
import { matchedRoutes } from 'hono/route'

import {
  type AdapterOptions,
  capturedFetch,
  checkRoute,
  consoleLog,
} from '../http/adapter/index.js'
import { createAdapterCore, fetchExchange, routeOf } from '../http/adapter/index.js'
import { isRead, isWrite } from '../http/index.js'
import type { CapturedResponse, HttpCache, HttpRoute, RouteCacheOptions } from '../http/index.js'
import { CacheError, type Cache } from '../index.js'

declare module 'hono' {
  interface ContextVariableMap {
    /** The cache given to `cachegraph()`: get/set/invalidate/clear({ pattern }) by hand. */
    cache: Cache
  }
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
  http: HttpCache<Context>
  trustProxy: boolean
  /** The options of `cachegraph.route()`, once it ran. */
  route?: HttpRoute<Context>
  /** Bodies made by `c.text()`, `c.json()`, `c.html()`, `c.body()` from text or bytes. */
  bodies: WeakMap<ReadableStream, 'text' | 'bytes'>
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
  const { trustProxy = false, ...rest } = options
  if (typeof trustProxy !== 'boolean') {
    throw new CacheError('E_INVALID_OPTION', 'cachegraph: option `trustProxy` must be a boolean')
  }
  const { http, admin } = createAdapterCore<Context>(rest, consoleLog)
  const cacheAll = http.route()
  const { cache } = http

  return async (c, next) => {
    c.set('cache', cache)
    const answer = admin === undefined ? undefined : await admin(c.req.raw, c)
    if (answer !== undefined) return answer
    const state: State = { http, trustProxy, bodies: recordBodies(c) }
    states.set(c, state)
    const routes = matchedRoutes(c)
    const method = c.req.method
    if (cacheAll.caches && isRead(method) && !routes.some((r) => isRouteMiddleware(r.handler))) {
      const pattern = patternOf(c)
      // No handler matched (a 404 of no route): nothing to cache.
      if (pattern !== undefined) return serve(state, routeOf(http, undefined, pattern), c, next)
    }
    await next()
    if (isWrite(method)) {
      const route = state.route ?? routeOf(http, undefined, patternOf(c))
      await http.afterWrite(route, exchange(c, trustProxy), await captured(c, state))
    }
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
    state.route = routeOf(state.http, options, patternOf(c))
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

/** The request as the core sees it; the host by `trustProxy` (see `fetchExchange`). */
const exchange = (c: Context, trustProxy: boolean) => fetchExchange(c, c.req.raw, trustProxy)

/** The response as the core sees it; a body not known to be text or bytes is a stream. */
const captured = (c: Context, state: State): Promise<CapturedResponse> =>
  capturedFetch(
    c.res,
    c.res.body === null ? undefined : state.bodies.get(c.res.body),
    c.error !== undefined,
  )

/** Notes which response bodies the context's helpers made from text or bytes. */
function recordBodies(c: Context): State['bodies'] {
  const bodies: State['bodies'] = new WeakMap()
  const note = (response: Response, data: unknown): Response => {
    const kind =
      typeof data === 'string'
        ? 'text'
        : data instanceof Uint8Array || data instanceof ArrayBuffer
          ? 'bytes'
          : undefined
    if (kind !== undefined && response.body !== null) bodies.set(response.body, kind)
    return response
  }
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
      return captured(c, state)
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
