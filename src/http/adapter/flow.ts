import { Capture, isRead, isWrite } from '../capture.js'
import type { HttpCache } from '../http-cache.js'
import type { RouteCacheOptions } from '../options.js'
import type { HttpRoute } from '../route.js'
import type { CapturedResponse, HttpExchange, ReplayResponse } from '../types.js'
import { routeOf } from './routes.js'

type Headers = Readonly<Record<string, string>>

/** What the adapter does once a GET/HEAD request was looked up. */
export type LookupOutcome =
  /** Send `response`; the handler does not run. */
  | { action: 'replay'; response: ReplayResponse }
  /** Run the handler the framework's usual way; {@link RequestFlow.sending} adds `headers`. */
  | { action: 'pass'; headers: Headers }
  /** The handler ran held and its response went (or another lookup took over): nothing left. */
  | { action: 'done' }

const NONE: Headers = {}
const SKIP: Headers = { 'x-cache': 'SKIP' }
const DONE: LookupOutcome = { action: 'done' }
/** The reason a lookup's capture fails when the route's own options take over. */
const TAKEN_OVER = Symbol('cachegraph: taken over by the route')

/**
 * Whether a request of `method` on `route` needs a flow: a GET/HEAD of a caching route, or a
 * write of a route that invalidates. Every other request goes on untouched.
 */
export const flows = <R>(route: HttpRoute<R>, method: string): boolean =>
  isRead(method) ? route.caches : isWrite(method) && route.invalidates

/**
 * One request's way through the HTTP core, the same for every framework. An adapter only
 * translates: it creates the flow when the request enters, tells it the route once known
 * ({@link RequestFlow.declare}), starts a GET/HEAD's lookup ({@link RequestFlow.lookup}) and
 * hands it the response about to be sent ({@link RequestFlow.sending}), which it sends with the
 * headers that resolves with. The flow decides the rest:
 *
 * - a GET/HEAD of a caching route is looked up: a hit is replayed; on a miss the handler runs
 *   inside the read-through and its response is held until stored; a request that is not
 *   cacheable passes with `X-Cache: SKIP`;
 * - a write's response is held until what it changed is invalidated;
 * - a route's own options arriving after an app-wide lookup began (Express's `cacheAll`) take
 *   over: that lookup is abandoned, its hold undone.
 */
export class RequestFlow<R> {
  readonly #http: HttpCache<R>
  readonly #exchangeOf: () => HttpExchange<R>
  #exchange: HttpExchange<R> | undefined
  readonly #pattern: () => string | undefined
  #route: HttpRoute<R> | undefined
  /** The capture of a lookup whose handler runs held, until its response is offered. */
  #capture: Capture | undefined
  /** Undoes what the running lookup's `run` set up (a hold on the response). */
  #undo: (() => void) | undefined
  /** Headers added to a response that passed by the cache. */
  #added: Headers = NONE
  #failed = false
  #answered = false

  /**
   * `exchange` builds the request as the core sees it, when first needed. `route`: the route,
   * when known as the request enters (Fastify); else `pattern` gives the pattern the framework
   * matched, for the route of requests without options.
   */
  constructor(
    http: HttpCache<R>,
    exchange: () => HttpExchange<R>,
    route?: HttpRoute<R>,
    pattern: () => string | undefined = () => undefined,
  ) {
    this.#http = http
    this.#exchangeOf = exchange
    this.#route = route
    this.#pattern = pattern
  }

  /** The request's route: declared, else that of its pattern without options. */
  get route(): HttpRoute<R> {
    return (this.#route ??= routeOf(this.#http, undefined, this.#pattern()))
  }

  get #request(): HttpExchange<R> {
    return (this.#exchange ??= this.#exchangeOf())
  }

  /** The response reached {@link RequestFlow.sending}. */
  get answered(): boolean {
    return this.#answered
  }

  /**
   * The route's own options (a route middleware ran on `pattern`). A lookup begun without them
   * gives way: its hold is undone and the headers it added are returned, for the adapter to
   * remove.
   */
  declare(options: RouteCacheOptions<R>, pattern: string | undefined): Headers {
    this.#route = routeOf(this.#http, options, pattern)
    this.#undo?.()
    this.#capture?.fail(TAKEN_OVER)
    const added = this.#added
    this.#added = NONE
    return added
  }

  /**
   * The answer to a GET/HEAD request of `route` when it is a fresh hit of memory, synchronously
   * (`HttpCache.hit`); `undefined`: {@link RequestFlow.lookup} it.
   */
  hit(route: HttpRoute<R>): ReplayResponse | undefined {
    return this.#http.hit(route, this.#request)
  }

  /**
   * Looks a GET/HEAD request of `route` up. On a miss `run` starts the handler so that its
   * response, about to be sent, reaches {@link RequestFlow.sending}; it tells `undoable` how
   * to undo that (a hold on the response) before it goes on, should the route take over.
   * Rejects with the handler's error.
   */
  async lookup(
    route: HttpRoute<R>,
    run: (undoable: (undo: () => void) => void) => void,
  ): Promise<LookupOutcome> {
    const capture = new Capture()
    const port = {
      run: () => {
        this.#capture = capture
        run((undo) => void (this.#undo = undo))
        return capture.response
      },
      release: (headers: Headers) => capture.release(headers),
    }
    let outcome
    try {
      outcome = await this.#http.serve(route, this.#request, port)
    } catch (error) {
      if (error === TAKEN_OVER) return DONE
      this.#added = SKIP // the framework's error handler answers: that response is not stored
      throw error
    } finally {
      if (this.#capture === capture) this.#undo = undefined
    }
    if (outcome.action === 'pass') this.#added = outcome.headers
    return outcome
  }

  /** The handler failed before answering (its error goes on to the framework's handler). */
  fail(error: unknown): void {
    this.#capture?.fail(error)
  }

  /** The framework's error handler makes this request's response: it is never stored. */
  failed(): void {
    this.#failed = true
  }

  /** A held handler has not answered yet. */
  get waiting(): boolean {
    return this.#capture?.waiting === true
  }

  /**
   * The headers to add when the response about to be sent only passes by (a replay, or a
   * response the cache left alone): the adapter need not gather it. `undefined`: it is held or a
   * write's, for {@link RequestFlow.sending}.
   */
  passing(): Headers | undefined {
    if (this.#capture?.waiting === true || isWrite(this.#request.method)) return undefined
    this.#answered = true
    return this.#added
  }

  /**
   * The response about to be sent. Resolves with the headers to add once it may go: at once for
   * a response that passed by, after storing a held one, after invalidating for a write.
   */
  sending(response: CapturedResponse): Headers | Promise<Headers> {
    this.#answered = true
    const failed = this.#failed || response.failed === true
    if (this.#capture?.waiting === true) return this.#capture.offer({ ...response, failed })
    if (!isWrite(this.#request.method)) return this.#added
    const written = this.#http.afterWrite(this.route, this.#request, { ...response, failed })
    return written.then(() => NONE)
  }
}
