/**
 * Where each value a read got came from, and which step a write took — read off the cache's own
 * events. An L1 hit emits `hit` (tier 'l1') synchronously inside the call, a shared-tier hit emits
 * `hit` (tier 'l2') and a load emits `miss` inside the flight the call started; `invalidate`
 * carries the step. The events run in the caller's async context, so an AsyncLocalStorage of our
 * own ties each one to the call it happened in. A key that saw no event joined a load another
 * call of this process had started (`flight`).
 *
 * HTTP calls cross a socket, which starts a new async context on the server side: the process's
 * app server looks the trace up by the request's `x-trace-id` header and runs the request inside
 * it (rows-app.ts), so a read through a route is traced like a direct call.
 */
import { AsyncLocalStorage } from 'node:async_hooks'

import type { Cache } from '../../src/index.js'
import type { BusWatch } from './bus-watch.js'
import type { Source } from './outcome.js'

export interface Trace {
  /** Full key → where its value came from, for every key the call touched. */
  readonly sources: Map<string, Source>
  /** The step of the last invalidation made inside the call. */
  seq?: number
  /** An invalidation inside the call failed (reported to the app, not thrown at the caller). */
  failed?: unknown
}

export const TRACE_HEADER = 'x-trace-id'

export class Tracer {
  readonly #scope = new AsyncLocalStorage<Trace>()
  /** Traces of HTTP calls in flight, by the id their request carries. */
  readonly #byRequest = new Map<string, Trace>()
  #nextId = 0

  constructor(cache: Cache, bus: BusWatch) {
    cache.on('hit', ({ key, tier }) => {
      const source: Source = tier === 'l2' ? 'l2' : bus.trusted ? 'l1' : 'l1-distrusted'
      this.#scope.getStore()?.sources.set(key, source)
    })
    cache.on('miss', ({ key }) => this.#scope.getStore()?.sources.set(key, 'loader'))
    cache.on('invalidate', ({ seq }) => {
      const trace = this.#scope.getStore()
      if (trace !== undefined) trace.seq = seq
    })
  }

  /** Runs `fn` (a direct call) with a fresh trace; resolves with both. */
  async run<T>(fn: () => Promise<T>): Promise<{ value: T; trace: Trace }> {
    const trace: Trace = { sources: new Map() }
    const value = await this.#scope.run(trace, fn)
    return { value, trace }
  }

  /**
   * Runs `fn` (an HTTP call) with a fresh trace that the app server picks up by the header it is
   * given; resolves with both.
   */
  async request<T>(
    fn: (headers: Record<string, string>) => Promise<T>,
  ): Promise<{ value: T; trace: Trace }> {
    const id = String(this.#nextId++)
    const trace: Trace = { sources: new Map() }
    this.#byRequest.set(id, trace)
    try {
      return { value: await fn({ [TRACE_HEADER]: id }), trace }
    } finally {
      this.#byRequest.delete(id)
    }
  }

  /** For the app server: runs the handling of a request inside its caller's trace, if any. */
  serve(header: string | string[] | undefined, handle: () => void): void {
    const trace = typeof header === 'string' ? this.#byRequest.get(header) : undefined
    if (trace === undefined) handle()
    else this.#scope.run(trace, handle)
  }

  /** The trace of the call running now (`onError` of the app uses it). */
  get current(): Trace | undefined {
    return this.#scope.getStore()
  }
}
