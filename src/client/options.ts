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
  /** Retries of a request that failed with a network error, a timeout or a 5xx (never a 4xx). */
  retry?: {
    /** @default 3 (at least 3 is recommended: a restarting service needs a moment) */
    retries?: number
    /** First delay, in ms; doubled each time, with full jitter. @default 100 */
    minDelay?: number
    /** Largest delay, in ms. @default 5000 */
    maxDelay?: number
  }
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
  retries: number
  minDelay: number
  maxDelay: number
  maxBatch: number
  batchDelay: number
}

/** Checks the options once, when the client is created; throws a TypeError naming the option. */
export function resolveClientOptions(
  options: InvalidationClientOptions,
  env: NodeJS.ProcessEnv,
): ResolvedClientOptions {
  const raw = options.apiUrl ?? env.CACHE_INVALIDATION_URL
  if (raw === undefined || raw === '') {
    throw new TypeError('cachegraph/client: `apiUrl` (or CACHE_INVALIDATION_URL) is required')
  }
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new TypeError(`cachegraph/client: \`apiUrl\` is not a URL: ${JSON.stringify(raw)}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`cachegraph/client: \`apiUrl\` must be http(s), got ${url.protocol}`)
  }
  if (url.pathname === '/') url.pathname = '/cache/invalidate'
  if (options.ack !== undefined && typeof options.ack !== 'boolean') {
    throw new TypeError('cachegraph/client: `ack` must be true or false')
  }
  if (options.ack === true) url.searchParams.set('ack', '1')
  const number = (value: number | undefined, name: string, fallback: number, min: number) => {
    const resolved = value ?? fallback
    if (typeof resolved !== 'number' || !Number.isFinite(resolved) || resolved < min) {
      throw new TypeError(`cachegraph/client: \`${name}\` must be a number >= ${min}`)
    }
    return resolved
  }
  const minDelay = number(options.retry?.minDelay, 'retry.minDelay', 100, 0)
  return {
    url: url.toString(),
    apiKey: options.apiKey ?? env.CACHE_API_KEY,
    timeout: number(options.timeout, 'timeout', 2_000, 1),
    maxQueue: Math.floor(number(options.maxQueue, 'maxQueue', 10_000, 1)),
    retries: Math.floor(number(options.retry?.retries, 'retry.retries', 3, 0)),
    minDelay,
    maxDelay: number(
      options.retry?.maxDelay,
      'retry.maxDelay',
      Math.max(5_000, minDelay),
      minDelay,
    ),
    maxBatch: Math.floor(number(options.batch?.maxSize, 'batch.maxSize', 100, 1)),
    batchDelay: number(options.batch?.delay, 'batch.delay', 0, 0),
  }
}
