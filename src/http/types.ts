import type { EdgeInfo } from './cdn/cdn.js'
import type { HeaderValue, StoredHeaders } from './headers.js'

/** What `X-Cache` says about a response of a caching route. */
export type CacheStatus = 'HIT' | 'MISS' | 'BYPASS' | 'SKIP'

/**
 * One request as the core sees it. Adapters build it from their framework's request; nothing
 * here is parsed by the framework's own rules, so every adapter yields the same keys.
 */
export interface HttpExchange<R = unknown> {
  /** The framework's request, handed to `varyBy`, `tags` and `invalidates` functions. */
  readonly request: R
  /** Upper-case method. */
  readonly method: string
  /** The request target's path as received (percent-encoded), without the query. */
  readonly path: string
  /** The raw query string without `?` (`''` when none). */
  readonly query: string
  /**
   * The request's host as the framework determined it: its `Host`, or the host a proxy
   * forwarded where the framework is told to trust that proxy (Fastify `trustProxy`, Express
   * `trust proxy`). Part of the key. Omitted: the `Host` header.
   */
  readonly host?: string | undefined
  /** A request header by lower-case name; several values joined with `, `. */
  header(name: string): string | undefined
}

/** A response as the handler produced it, captured before it is sent. */
export interface CapturedResponse {
  status: number
  /** As the framework holds them (any name case, numbers, lists). */
  headers: Readonly<Record<string, HeaderValue>>
  /** The serialized body; `undefined` for a stream or a body the adapter cannot see (never stored). */
  body: string | Uint8Array | undefined
  /** An error handler produced this response (the handler threw): never stored, never a write. */
  failed?: boolean
}

/** A response as stored in the cache (with `version: 'http2'`). */
export interface StoredResponse {
  readonly kind: 'response'
  readonly status: number
  readonly headers: StoredHeaders
  readonly body: string | Uint8Array
  /**
   * The app's own `ETag`. Absent: the response's `ETag` is a strong hash of the body, computed
   * when a response needs it rather than kept by every cached response.
   */
  readonly etag?: string
  /** When it was stored (for `Age`), by the options' clock. */
  readonly storedAt: number
  /** With the `cdn` option: its edge tags and lifetime. */
  readonly edge?: EdgeInfo
}

/** A response to send instead of running the handler (a hit, or a 304). */
export interface ReplayResponse {
  status: number
  headers: Record<string, string | readonly string[]>
  /** `undefined` for a 304. */
  body: string | Uint8Array | undefined
}

/**
 * How the core drives a framework while it runs a route's handler inside the cache's
 * read-through (so the handler's `dependsOn` and cached calls are recorded for its response).
 */
export interface ServePort {
  /**
   * Runs the route handler and resolves with its response just before it would be sent, holding
   * it until {@link ServePort.release}; rejects with the handler's error. Called at most once.
   */
  run(): Promise<CapturedResponse>
  /** Sends the held response with `headers` added. Called once after `run` resolved. */
  release(headers: Readonly<Record<string, string>>): void
}

/** What the adapter does after `serve`. */
export type ServeOutcome =
  /** Run the handler the framework's usual way and add `headers` to its response. */
  | { action: 'pass'; headers: Readonly<Record<string, string>> }
  /** Send `response`; the handler does not run. */
  | { action: 'replay'; response: ReplayResponse }
  /** The handler ran through the port and its response was released: nothing left to do. */
  | { action: 'done' }
