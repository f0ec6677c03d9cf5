import { CLIENT_FLUSH_DROPPED, type Logger } from '../warnings.js'
import { createInvalidationClient, type InvalidationClient } from './client.js'

/** One client per (URL, key): every `flushCache()` call to the same service shares a queue. */
const clients = new Map<string, InvalidationClient>()

/**
 * The seed's `flush_cache`: queues the invalidation of one entity and returns at once. Never
 * throws nor rejects; a missing or malformed URL, like every later failure, is reported with a
 * process warning (use {@link createInvalidationClient} and its events to handle failures).
 * Pending invalidations are sent when the event loop empties.
 *
 * @example
 * flushCache({ entityId: 123, entityType: 'product' }) // CACHE_INVALIDATION_URL, CACHE_API_KEY
 */
export function flushCache(options: {
  entityId: string | number
  entityType: string
  /** @default process.env.CACHE_INVALIDATION_URL */
  apiUrl?: string
  /** @default process.env.CACHE_API_KEY */
  apiKey?: string
  /**
   * Where failures are reported (pino-compatible), with their warning code, instead of process
   * warnings. The first call for a service decides (its client is shared).
   */
  logger?: Logger
}): void {
  try {
    const apiUrl = options.apiUrl ?? process.env.CACHE_INVALIDATION_URL
    const apiKey = options.apiKey ?? process.env.CACHE_API_KEY
    const id = `${apiUrl}\n${apiKey}`
    let client = clients.get(id)
    if (client === undefined) {
      client = createInvalidationClient({ apiUrl, apiKey, logger: options.logger })
      clients.set(id, client)
    }
    client.flushCache({ entityId: options.entityId, entityType: options.entityType })
  } catch (error) {
    CLIENT_FLUSH_DROPPED.log(
      isLogger(options?.logger) ? options.logger : undefined,
      error instanceof Error ? error.message : String(error),
    )
  }
}

/** A logger good enough to report the failure with (the failure may be a bad `logger`). */
function isLogger(value: unknown): value is Logger {
  return typeof (value as Partial<Logger> | undefined)?.warn === 'function'
}
