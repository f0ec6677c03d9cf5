import type { Cache } from '../../index.js'

/** What a route handler gets. */
export interface RouteContext {
  cache: Cache
  request: Request
  query: URLSearchParams
  /** The decoded `:key` or `:tag` of routes that have one. */
  param: string
  maxBodyBytes: number
}

/** A route handler: resolves to the answer, or throws (see `errorResponse`). */
export type RouteHandler = (context: RouteContext) => Promise<Response> | Response
