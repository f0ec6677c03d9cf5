import { invalidOption } from '../../errors.js'
import type { Cache } from '../../index.js'
import { checkLogger, type Logger } from '../../warnings.js'
import type { EventHubOptions } from '../dashboard/event-hub.js'
import { checkOrigins } from './origin.js'

/** Decides whether a request may use the admin API. A thrown error answers 500, never a crash. */
export type Authorize<R> = (request: R) => boolean | Promise<boolean>

interface CommonAdminOptions {
  /** The cache to administer; its child namespaces are listed and reachable too. */
  cache: Cache
  /**
   * Where the routes live. Requests outside it resolve to `undefined`, so a host can fall through
   * to its other routes.
   * @default '/api/cache'
   */
  prefix?: string
  /**
   * Largest request body accepted, in bytes; a larger one answers 413 without being read further.
   * @default 1_048_576 (1 MB)
   */
  maxBodyBytes?: number
  /**
   * Called with every error behind a 5xx answer (a failing `authorize`, an unreachable store), for
   * logging: the answer itself carries a generic message only.
   */
  onError?: (error: unknown, request: Request) => void
  /**
   * Where the admin API's warnings go (pino-compatible: `warn`, `error`, `debug`): an invalidation
   * no other process heard (`CACHEGRAPH_INVALIDATION_UNHEARD`), at `warn` with its `code`.
   * @default the cache's `logger`, else a process warning
   */
  logger?: Logger
  /**
   * Other origins whose pages may send state-changing requests (POST, DELETE) to the admin API,
   * e.g. an operations console on its own host. A request with any other `Origin` than the admin
   * API's own answers 403; requests without `Origin` (servers, the CLI, curl) are not affected.
   * No CORS headers are sent either way: list an origin here only for a page that needs no
   * response it can read (or put both behind one host).
   * @default []
   * @example origins: ['https://ops.example.com']
   */
  origins?: readonly string[]
  /**
   * Serves the dashboard, `GET {prefix}/ui` (docs/dashboard.md), with its assets. The event
   * stream (`GET {prefix}/events`) and `GET {prefix}/members` are part of the API either way.
   * @default true
   */
  ui?: boolean
  /** Limits of the event streams of `GET {prefix}/events`. */
  events?: EventHubOptions
  /**
   * Aborting it ends the open event streams and refuses new ones. Abort it before a server's
   * graceful close, which would otherwise wait for them (the adapters do, on their framework's
   * close); `cache.close()` ends them too.
   */
  signal?: AbortSignal
}

/**
 * Options of {@link createAdminHandler}. Either `authorize` is given, or `insecure: true` says
 * on purpose that anyone who reaches the routes may use them (the types and the handler both
 * refuse a handler with neither).
 *
 * @typeParam R - What `authorize` receives: the fetch `Request`, or a framework's own request
 * when an adapter passes it as the handler's second argument.
 *
 * @example
 * const admin = createAdminHandler({
 *   cache,
 *   authorize: (request) => request.headers.get('authorization') === `Bearer ${process.env.ADMIN_TOKEN}`,
 * })
 */
export type AdminOptions<R = Request> = CommonAdminOptions &
  (
    | {
        /**
         * Returns whether `request` may use the admin API (false answers 401). Every route,
         * `/health` and `/metrics` included, goes through it: let those through here if your
         * probes and scrapers carry no credentials.
         */
        authorize: Authorize<R>
        /** Ignored when `authorize` is given. */
        insecure?: boolean
      }
    | {
        authorize?: undefined
        /** Serve the admin API without any authorization check (local tools, tests). */
        insecure: true
      }
  )

/** {@link AdminOptions} checked, with their defaults. */
export interface ResolvedAdminOptions<R> {
  cache: Cache
  prefix: string
  maxBodyBytes: number
  authorize: Authorize<R> | undefined
  onError: ((error: unknown, request: Request) => void) | undefined
  logger: Logger | undefined
  origins: ReadonlySet<string>
  ui: boolean
  events: EventHubOptions
  signal: AbortSignal | undefined
}

export const DEFAULT_PREFIX = '/api/cache'
export const DEFAULT_MAX_BODY_BYTES = 1_048_576

/** Checks the options once, when the handler is created (never per request). */
export function resolveAdminOptions<R>(options: AdminOptions<R>): ResolvedAdminOptions<R> {
  const { cache, authorize, insecure, onError } = (options ?? {}) as Partial<AdminOptions<R>>
  if (typeof cache?.stats !== 'function' || typeof cache.keys !== 'function') {
    throw invalidOption('admin.cache', 'must be a cache made by createCache()')
  }
  if (authorize === undefined && insecure !== true) {
    throw invalidOption(
      'admin.authorize',
      'is required: pass a function that checks each request, or `insecure: true` to serve the admin API to anyone who can reach it',
    )
  }
  if (authorize !== undefined && typeof authorize !== 'function') {
    throw invalidOption('admin.authorize', 'must be a function of the request')
  }
  if (onError !== undefined && typeof onError !== 'function') {
    throw invalidOption('admin.onError', 'must be a function')
  }
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw invalidOption(
      'admin.maxBodyBytes',
      `must be a positive integer, got ${String(maxBodyBytes)}`,
    )
  }
  const origins = checkOrigins(options.origins)
  if (typeof origins === 'string') throw invalidOption('admin.origins', origins)
  if (options.ui !== undefined && typeof options.ui !== 'boolean') {
    throw invalidOption('admin.ui', 'must be a boolean')
  }
  if (options.signal !== undefined && typeof options.signal?.addEventListener !== 'function') {
    throw invalidOption('admin.signal', 'must be an AbortSignal')
  }
  return {
    cache,
    prefix: checkPrefix(options.prefix),
    maxBodyBytes,
    authorize,
    onError,
    logger: checkLogger(options.logger, 'admin.logger') ?? cache.settings.logger,
    origins,
    ui: options.ui ?? true,
    events: options.events ?? {},
    signal: options.signal,
  }
}

/** `'/api/cache'`, `'/api/cache/'` → `'/api/cache'`; `'/'` → `''` (every path). */
function checkPrefix(prefix: unknown = DEFAULT_PREFIX): string {
  if (typeof prefix !== 'string' || !prefix.startsWith('/') || /[?#%\s]/.test(prefix)) {
    throw invalidOption(
      'admin.prefix',
      `must be a path starting with '/' (no query, fragment, escapes or spaces), got ${JSON.stringify(prefix)}`,
    )
  }
  return prefix.replace(/\/+$/, '')
}
