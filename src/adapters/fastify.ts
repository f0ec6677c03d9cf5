import type {
  FastifyInstance,
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  RouteHandlerMethod,
} from 'fastify'

import { type AdapterOptions, createAdapterCore, fetchRequestOf } from '../http/adapter/index.js'
import { nodeAnswer } from '../http/adapter/index.js'
import { bodyOf, Capture, exchangeOf, isRead, isWrite } from '../http/index.js'
import type { AdminHandler, CapturedResponse, HttpRoute } from '../http/index.js'
import type { ReplayResponse, RouteCacheOptions } from '../http/index.js'
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

interface State {
  route: HttpRoute<FastifyRequest>
  /** Set while the handler runs inside the read-through: `onSend` offers it the response. */
  capture?: Capture
  /** Headers `onSend` adds (`X-Cache` of a response the core did not hold). */
  headers?: Readonly<Record<string, string>>
  failed?: boolean
  /** The reply reached `onSend`. */
  sent?: boolean
}

/**
 * The cachegraph Fastify plugin. Register it before the routes it should see: it wraps their
 * handlers (so lookups run after every `onRequest`/`preHandler` hook — authentication included)
 * and holds each response in `onSend` until it is stored, or its write's invalidation is done.
 *
 * @example
 * await app.register(cachegraph, { cache })
 * app.get('/users/:id', { config: { cache: { ttl: '1m' } } }, handler)
 */
const plugin: FastifyPluginCallback<CachegraphFastifyOptions> = (app, options, done) => {
  // Open event streams would hold app.close() until they time out: end them first.
  const closing = new AbortController()
  let core
  try {
    core = createAdapterCore<FastifyRequest>(options, {
      requestFailed: (err, context) =>
        app.log.error({ err, ...context }, 'cachegraph: request failed'),
      adminFailed: (err) => app.log.error({ err }, 'cachegraph: admin request failed'),
      closing: closing.signal,
    })
  } catch (error) {
    return done(error as Error)
  }
  const { http, admin, adminPrefix } = core
  if (admin !== undefined) {
    app.addHook('preClose', (hookDone) => {
      closing.abort()
      hookDone()
    })
  }
  const { cache } = http
  const states = new WeakMap<FastifyRequest, State>()
  app.decorate('cache', cache)
  app.decorateRequest('cache', { getter: () => cache })

  app.addHook('onRoute', (opts) => {
    const route = http.route(opts.config?.cache, opts.url)
    const methods = ([] as string[]).concat(opts.method)
    const reads = route.caches && methods.some(isRead)
    if (!reads && !(route.invalidates && methods.some(isWrite))) return
    const handler = opts.handler as RouteHandlerMethod
    opts.handler = function (this: FastifyInstance, request, reply) {
      if (isRead(request.method) && !reads) return handler.call(this, request, reply)
      const state: State = { route }
      states.set(request, state)
      if (isRead(request.method)) return serve(this, handler, state, request, reply)
      return settled(handler.call(this, request, reply), reply, state)
    }
  })

  async function serve(
    instance: FastifyInstance,
    handler: RouteHandlerMethod,
    state: State,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<unknown> {
    const capture = new Capture()
    const port = {
      run: () => ((state.capture = capture), run(capture, handler.call(instance, request, reply))),
      release: (headers: Readonly<Record<string, string>>) => capture.release(headers),
    }
    let outcome
    try {
      outcome = await http.serve(state.route, exchange(request), port)
    } catch (error) {
      state.headers = { 'x-cache': 'SKIP' }
      throw error
    }
    if (outcome.action === 'replay') return replay(reply, outcome.response)
    if (outcome.action === 'done') return reply
    state.headers = outcome.headers
    return settled(handler.call(instance, request, reply), reply, state)

    /** Settles `capture` as Fastify would treat the handler's result; `onSend` offers the rest. */
    function run(capture: Capture, result: unknown): Promise<CapturedResponse> {
      const settle = (payload: unknown): void => {
        if (!capture.waiting) return
        // Hijacked, or written to `reply.raw`: nothing will pass through `onSend`.
        if (reply.sent)
          void capture.offer({ status: reply.statusCode, headers: {}, body: undefined })
        else if (payload !== reply) reply.send(payload)
      }
      if (isThenable(result)) result.then(settle, (error: unknown) => capture.fail(error))
      else if (result !== undefined || reply.sent) settle(result)
      return capture.response
    }
  }

  if (admin !== undefined) mountAdmin(app, admin, adminPrefix)

  app.addHook('onError', (request, _reply, _error, next) => {
    const state = states.get(request)
    if (state !== undefined) state.failed = true
    next()
  })

  // Callback style: only a held response or a write waits; every other reply goes on at once.
  app.addHook('onSend', (request, reply, payload, next) => {
    const state = states.get(request)
    if (state === undefined) return next()
    state.sent = true
    const response = (): CapturedResponse => ({
      status: reply.statusCode,
      headers: reply.getHeaders(),
      body: bodyOf(payload),
      failed: state.failed === true,
    })
    if (state.capture?.waiting === true) {
      state.capture.offer(response()).then((headers) => {
        reply.headers(headers)
        next()
      }, next)
    } else if (isWrite(request.method)) {
      http.afterWrite(state.route, exchange(request), response()).then(() => next(), next)
    } else {
      if (state.headers !== undefined) reply.headers(state.headers)
      next()
    }
  })
  done()
}

function replay(reply: FastifyReply, response: ReplayResponse): FastifyReply {
  reply.code(response.status)
  for (const [name, value] of Object.entries(response.headers)) reply.header(name, value)
  const { body } = response
  const empty = body === undefined || body.length === 0
  return empty && !reply.hasHeader('content-type') ? reply.send() : reply.send(body)
}

/** `request.host` is the forwarded host only under Fastify's `trustProxy`. */
const exchange = (request: FastifyRequest) =>
  exchangeOf(request, request.method, request.url, request.headers, request.host)

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof (value as PromiseLike<unknown> | undefined)?.then === 'function'

/**
 * The handler's result as Fastify should see it. An async handler that called `reply.send()`
 * without `return reply` resolves to `undefined` while this plugin's `onSend` still holds the
 * reply: Fastify would then send again. Waiting for the reply instead (it is thenable) is what
 * `return reply` does.
 */
function settled(result: unknown, reply: FastifyReply, state: State): unknown {
  if (!isThenable(result)) return result === undefined ? reply : result
  return result.then((payload) => (payload === undefined && state.sent === true ? reply : payload))
}

/** The admin API's fetch-style handler on every method under `prefix`. */
function mountAdmin(app: FastifyInstance, admin: AdminHandler<FastifyRequest>, prefix: string) {
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    // Fastify read the body already: it goes on as parsed.
    const body = fetchRequestOf(request.raw, request.url, request.body, false)
    const answer = await admin(body, request)
    if (answer === undefined) return reply.code(404).send({ error: 'not found' })
    const sent = await nodeAnswer(answer, request.raw.httpVersionMajor)
    reply.code(sent.status)
    for (const [name, value] of sent.headers) reply.header(name, value)
    return reply.send(sent.body)
  }
  // Admin calls are neither cached nor HTTP writes to invalidate after.
  const config = { cache: { enabled: false, invalidation: false as const } }
  app.all(prefix, { config }, handler)
  app.all(`${prefix}/*`, { config }, handler)
}

/** The plugin, with the metadata `fastify-plugin` would add (no encapsulation: it hooks the app). */
export const cachegraph = Object.assign(plugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'cachegraph',
  [Symbol.for('plugin-meta')]: { name: 'cachegraph', fastify: '5.x' },
})

export default cachegraph
