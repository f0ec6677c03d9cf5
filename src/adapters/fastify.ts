import type {
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  RouteHandlerMethod,
} from 'fastify'
import fastifyPlugin from 'fastify-plugin'

import { adminAnswer, type AdapterOptions, createAdapterCore } from '../http/adapter/index.js'
import { flows, RequestFlow } from '../http/adapter/index.js'
import { bodyOf, exchangeOf, isRead } from '../http/index.js'
import type { AdminHandler, ReplayResponse, RouteCacheOptions } from '../http/index.js'
import type { Cache } from '../index.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** cachegraph: how this route's GET/HEAD responses are cached and its writes invalidate. */
    cache?: RouteCacheOptions<FastifyRequest>
  }
  interface FastifyInstance {
    /** The cache given to the cachegraph plugin: get/set/invalidate/clear({ pattern }) by hand. */
    cache: Cache
  }
  interface FastifyRequest {
    /** The cache given to the cachegraph plugin. */
    cache: Cache
  }
}

/** Options of the Fastify plugin: those of `cachegraph/http`, plus `admin` (gets the request). */
export type CachegraphFastifyOptions = AdapterOptions<FastifyRequest>

type Flow = RequestFlow<FastifyRequest>

/** Invalid options reject `app.register()`: the promise's executor turns their throw into that. */
const plugin: FastifyPluginAsync<CachegraphFastifyOptions> = (app, options) =>
  new Promise((resolve) => resolve(install(app, options)))

/**
 * Wraps the handlers of the routes declared after it (so lookups run after every `onRequest` and
 * `preHandler` hook — authentication included) and holds each response in `onSend` until it is
 * stored, or its write's invalidation is done.
 */
function install(app: FastifyInstance, options: CachegraphFastifyOptions): void {
  // Open event streams would hold app.close() until they time out: end them first.
  const closing = new AbortController()
  const { http, admin, adminPrefix } = createAdapterCore<FastifyRequest>(options, {
    requestFailed: (err, context) =>
      app.log.error({ err, ...context }, 'cachegraph: request failed'),
    adminFailed: (err) => app.log.error({ err }, 'cachegraph: admin request failed'),
    closing: closing.signal,
  })
  const states = new WeakMap<FastifyRequest, Flow>()
  app.decorate('cache', http.cache)
  app.decorateRequest('cache', { getter: () => http.cache })

  app.addHook('onRoute', (opts) => {
    const route = http.route(opts.config?.cache, opts.url)
    if (!([] as string[]).concat(opts.method).some((m) => flows(route, m))) return
    const handler = opts.handler as RouteHandlerMethod
    opts.handler = function (this: FastifyInstance, request, reply) {
      if (!flows(route, request.method)) return handler.call(this, request, reply)
      const asked = exchange(request)
      // A fresh hit of memory is sent at once: no flow, no promise, nothing for `onSend` to do.
      const hit = http.hit(route, asked)
      if (hit !== undefined) return void replay(reply, hit)
      const flow = new RequestFlow(http, () => asked, route)
      states.set(request, flow)
      const call = (): unknown => handler.call(this, request, reply)
      return isRead(request.method) ? serve(flow, call, reply) : settled(call(), reply, flow)
    }
  })

  if (admin !== undefined) {
    app.addHook('preClose', (hookDone) => (closing.abort(), hookDone()))
    mountAdmin(app, admin, adminPrefix)
  }

  app.addHook('onError', (request, _reply, _error, next) => (states.get(request)?.failed(), next()))

  // Callback style: only a held response or a write waits; every other reply goes on at once.
  app.addHook('onSend', (request, reply, payload, next) => {
    const flow = states.get(request)
    if (flow === undefined) return next()
    const passing = flow.passing()
    if (passing !== undefined) return void (reply.headers(passing), next())
    const { statusCode: status } = reply
    const headers = flow.sending({ status, headers: reply.getHeaders(), body: bodyOf(payload) })
    if (!(headers instanceof Promise)) return void (reply.headers(headers), next())
    headers.then((added) => void (reply.headers(added), next()), next)
  })
}

/** Serves a GET/HEAD request: replays a hit, or runs the handler (held on a miss). */
async function serve(flow: Flow, call: () => unknown, reply: FastifyReply): Promise<unknown> {
  const outcome = await flow.lookup(flow.route, () => hold(flow, call(), reply))
  if (outcome.action === 'replay') return replay(reply, outcome.response)
  if (outcome.action === 'done') return reply
  return settled(call(), reply, flow)
}

/** Settles a held handler as Fastify would treat its result; `onSend` offers the rest. */
function hold(flow: Flow, result: unknown, reply: FastifyReply): void {
  const settle = (payload: unknown): void => {
    if (!flow.waiting) return
    // Hijacked, or written to `reply.raw`: nothing will pass through `onSend`.
    if (reply.sent) void flow.sending({ status: reply.statusCode, headers: {}, body: undefined })
    else if (payload !== reply) reply.send(payload)
  }
  if (isThenable(result)) result.then(settle, (error: unknown) => flow.fail(error))
  else if (result !== undefined || reply.sent) settle(result)
}

function replay(reply: FastifyReply, { status, headers, body }: ReplayResponse): FastifyReply {
  reply.code(status).headers(headers as Record<string, string | string[]>)
  const empty = body === undefined || body.length === 0
  return empty && !reply.hasHeader('content-type') ? reply.send() : reply.send(body)
}

/** `request.host` is the forwarded host only under Fastify's `trustProxy`. */
const exchange = (request: FastifyRequest) =>
  exchangeOf(request, request.method, request.url, request.headers, request.host)

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof (value as PromiseLike<unknown> | undefined)?.then === 'function'

/**
 * The handler's result as Fastify should see it: an async handler that called `reply.send()`
 * without `return reply` resolves to `undefined` while `onSend` may still hold the reply, and
 * Fastify would send again. Waiting for the reply (it is thenable) is what `return reply` does.
 */
function settled(result: unknown, reply: FastifyReply, flow: Flow): unknown {
  if (!isThenable(result)) return result === undefined ? reply : result
  return result.then((payload) => (payload === undefined && flow.answered ? reply : payload))
}

/** The admin API's fetch-style handler on every method under `prefix`. */
function mountAdmin(app: FastifyInstance, admin: AdminHandler<FastifyRequest>, prefix: string) {
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    // Fastify read the body already: it goes on as parsed.
    const sent = await adminAnswer(admin, request, request.raw, request.url, request.body, false)
    if (sent === undefined) return reply.callNotFound()
    reply.code(sent.status)
    for (const [name, value] of sent.headers) reply.header(name, value)
    return reply.send(sent.body)
  }
  // Admin calls are neither cached nor HTTP writes to invalidate after.
  const config = { cache: { enabled: false, invalidation: false as const } }
  app.all(prefix, { config }, handler)
  app.all(`${prefix}/*`, { config }, handler)
}

/**
 * The cachegraph Fastify plugin, wrapped by `fastify-plugin`: its decorations (`app.cache`,
 * `request.cache`) and hooks reach the context it is registered in — register it before the
 * routes it should see, at the root to see them all.
 *
 * @example
 * await app.register(cachegraph, { cache })
 * app.get('/users/:id', { config: { cache: { ttl: '1m' } } }, handler)
 */
export const cachegraph = fastifyPlugin(plugin, { name: 'cachegraph', fastify: '5.x' })

export default cachegraph
