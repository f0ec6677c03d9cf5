import type { Cache } from '../../index.js'
import type { Logger } from '../../warnings.js'
import type { EventHub } from '../dashboard/event-hub.js'

/** What the dashboard routes need besides the cache. */
export interface DashboardContext {
  hub: EventHub
  ui: boolean
  prefix: string
}

/** What a route handler gets. */
export interface RouteContext {
  cache: Cache
  request: Request
  query: URLSearchParams
  /** The decoded `:key` or `:tag` of routes that have one. */
  param: string
  maxBodyBytes: number
  dashboard: DashboardContext
  /** Where warnings go (the `logger` option, else the cache's); undefined: process warnings. */
  logger: Logger | undefined
}

/** A route handler: resolves to the answer, or throws (see `errorResponse`). */
export type RouteHandler = (context: RouteContext) => Promise<Response> | Response
