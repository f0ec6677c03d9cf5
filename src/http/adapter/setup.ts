import { createAdminHandler, type AdminHandler } from '../admin/handler.js'
import type { AdminOptions } from '../admin/options.js'
import { createHttpCache, type HttpCache } from '../http-cache.js'
import type { HttpCacheOptions, HttpErrorContext } from '../options.js'
import { logError } from '../../warnings.js'

/** The options every adapter takes: those of `cachegraph/http`, plus the admin API. */
export type AdapterOptions<R> = HttpCacheOptions & {
  /**
   * Serves the admin API (docs/admin-api.md) under `prefix` (default `/api/cache`). Refused
   * without `authorize(request)` (it gets the framework's request) unless `insecure: true`.
   */
  admin?: Omit<AdminOptions<R>, 'cache'>
}

/** What an adapter builds once, when the app installs it. */
export interface AdapterCore<R> {
  http: HttpCache<R>
  admin: AdminHandler<R> | undefined
  /** Where the admin API is mounted. */
  adminPrefix: string
}

/** How the framework logs: defaults of the core's and the admin API's `onError`. */
export interface AdapterLog {
  requestFailed: (error: unknown, context: HttpErrorContext) => void
  adminFailed?: (error: unknown) => void
  /** Ends the admin API's event streams (the app is closing), with the user's own signal. */
  closing?: AbortSignal
}

/** Creates the HTTP core and, when asked for, the admin API over its cache (options checked). */
export function createAdapterCore<R>(options: AdapterOptions<R>, log: AdapterLog): AdapterCore<R> {
  const { admin: adminOptions, ...httpOptions } = options
  const http = createHttpCache<R>({ onError: log.requestFailed, ...httpOptions })
  if (adminOptions === undefined) return { http, admin: undefined, adminPrefix: '' }
  const signals = [adminOptions.signal, log.closing].filter((s) => s !== undefined)
  const admin = createAdminHandler<R>({
    ...(log.adminFailed === undefined ? {} : { onError: log.adminFailed }),
    ...adminOptions,
    ...(signals.length === 0 ? {} : { signal: AbortSignal.any(signals) }),
    cache: http.cache,
  } as AdminOptions<R>)
  return { http, admin, adminPrefix: adminOptions.prefix ?? '/api/cache' }
}

/** The default logger of adapters whose framework has none (Express, Hono). */
export const consoleLog: AdapterLog = {
  requestFailed: (error, { logger, ...context }) =>
    logger === undefined
      ? console.error('cachegraph: request failed', context, error)
      : logError(logger, 'cachegraph: request failed', error, context),
}
