import { invalidOption } from '../errors.js'
import { checkLogger, type Logger } from '../warnings.js'
import type { Backoff } from './backoff.js'

/** Options of {@link createInvalidationClient}. */
export interface InvalidationClientOptions {
  /**
   * The service's invalidation endpoint, e.g. `https://cache.internal/cache/invalidate` (as the
   * seed's `api_url`); a bare origin (`http://127.0.0.1:8080`) gets `/cache/invalidate`.
   * @default process.env.CACHE_INVALIDATION_URL
   */
  apiUrl?: string
  /** Sent as `x-api-key`. @default process.env.CACHE_API_KEY */
  apiKey?: string
  /**
   * Ask the cachegraph service to answer only once every app process has applied each
   * invalidation (`?ack=1`; the `sent` event's body then carries `fleet`). Tags and entities only.
   * @default false
   */
  ack?: boolean
  /** Time limit of each request, in ms. @default 2000 */
  timeout?: number
  /** Most invalidations waiting; past it new ones are dropped and reported (`dropped`). @default 10000 */
  maxQueue?: number
  /**
   * Retries of a request that failed with a network error, a timeout or a 5xx (never a 4xx).
   * Retried by time rather than by count: a service restart takes seconds, and a request is
   * tried again until `maxTime` after its first failure. Invalidation is idempotent, so a request
   * whose answer was lost (the service applied it, then went away) is safely sent again.
   */
  retry?: {
    /**
     * How long a request is retried after its first failure, in ms; then its invalidations are
     * dropped (`failed`). While it is retried the rest waits in the queue (`maxQueue`).
     * @default 60000 (a restart of up to 30 s loses nothing, with room to spare)
     */
    maxTime?: number
    /**
     * Most retries of one request, on top of `maxTime`.
     * @default Infinity (bounded by `maxTime` only)
     */
    retries?: number
    /**
     * First delay's ceiling, in ms; the ceiling doubles with each retry up to `maxDelay`, and each
     * delay is drawn uniformly between 0 and it (full jitter: clients failing together, as in a
     * restart, spread out the most).
     * @default 100
     */
    minDelay?: number
    /** Largest ceiling of a delay, in ms. @default 5000 */
    maxDelay?: number
  }
  /**
   * Where dropped invalidations are reported when nobody listens to `dropped` (pino-compatible:
   * `warn`, `error`, `debug`), with their warning `code`, instead of process warnings.
   * @default process warnings (`CACHEGRAPH_CLIENT_DROPPED`)
   */
  logger?: Logger
  /** How invalidations are grouped into requests. */
  batch?: {
    /** Most invalidations per request. @default 100 */
    maxSize?: number
    /**
     * How long to wait for more before sending, in ms (`0`: what was queued in the same turn of
     * the event loop goes together).
     * @default 0
     */
    delay?: number
  }
}

export interface ResolvedClientOptions {
  url: string
  apiKey: string | undefined
  timeout: number
  maxQueue: number
  backoff: Backoff
  maxBatch: number
  batchDelay: number
  logger: Logger | undefined
}

/** Checks the options once, when the client is created; throws a `CacheError` (`E_INVALID_OPTION`) naming the option. */
export function resolveClientOptions(
  options: InvalidationClientOptions,
  env: NodeJS.ProcessEnv,
): ResolvedClientOptions {
  const raw = options.apiUrl ?? env.CACHE_INVALIDATION_URL
  if (raw === undefined || raw === '') {
    throw invalidOption('apiUrl', '(or CACHE_INVALIDATION_URL) is required')
  }
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw invalidOption('apiUrl', `is not a URL: ${JSON.stringify(raw)}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalidOption('apiUrl', `must be http(s), got ${url.protocol}`)
  }
  if (url.pathname === '/') url.pathname = '/cache/invalidate'
  if (options.ack !== undefined && typeof options.ack !== 'boolean') {
    throw invalidOption('ack', 'must be true or false')
  }
  if (options.ack === true) url.searchParams.set('ack', '1')
  const number = (
    value: number | undefined,
    name: string,
    fallback: number,
    min: number,
    infinite = false,
  ) => {
    const resolved = value ?? fallback
    const finite = infinite
      ? resolved === Infinity || Number.isFinite(resolved)
      : Number.isFinite(resolved)
    if (typeof resolved !== 'number' || !finite || resolved < min) {
      throw invalidOption(name, `must be a number >= ${min}${infinite ? ' (or Infinity)' : ''}`)
    }
    return resolved
  }
  const minDelay = number(options.retry?.minDelay, 'retry.minDelay', 100, 0)
  return {
    url: url.toString(),
    apiKey: options.apiKey ?? env.CACHE_API_KEY,
    timeout: number(options.timeout, 'timeout', 2_000, 1),
    maxQueue: Math.floor(number(options.maxQueue, 'maxQueue', 10_000, 1)),
    backoff: {
      maxTime: number(options.retry?.maxTime, 'retry.maxTime', 60_000, 0, true),
      retries: Math.floor(number(options.retry?.retries, 'retry.retries', Infinity, 0, true)),
      minDelay,
      maxDelay: number(
        options.retry?.maxDelay,
        'retry.maxDelay',
        Math.max(5_000, minDelay),
        minDelay,
      ),
    },
    maxBatch: Math.floor(number(options.batch?.maxSize, 'batch.maxSize', 100, 1)),
    batchDelay: number(options.batch?.delay, 'batch.delay', 0, 0),
    logger: checkLogger(options.logger),
  }
}
