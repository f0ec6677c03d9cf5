import type { Cache } from '../../index.js'
import { INVALIDATION_UNHEARD, type Logger } from '../../warnings.js'

/** An idle member renews its record this often (docs/fleet.md; `MEMBER_IDLE_RENEW_MS`). */
const IDLE_RENEW_MS = 60_000

/**
 * How many other processes listen on `cache`'s store and bus, and so hear what it invalidates:
 * the fleet's members whose record is recent (an idle member renews its record once a minute:
 * within two of that of the newest, all by the store's clock), this cache left out. Undefined without a bus, or when the records cannot be
 * read (the invalidation itself is not failed for that).
 */
export async function listenersOf(cache: Cache): Promise<number | undefined> {
  const { maxSilenceMs } = cache.settings
  if (maxSilenceMs === undefined) return undefined
  try {
    const members = await cache.members()
    const newest = Math.max(...members.map((member) => member.seenAt))
    const within = Math.max(2 * maxSilenceMs, 2 * IDLE_RENEW_MS)
    return members.filter((m) => !m.self && m.seenAt >= newest - within).length
  } catch {
    return undefined
  }
}

/**
 * Warns (`CACHEGRAPH_INVALIDATION_UNHEARD`) when none did: to `logger`, by default the cache's,
 * else as a process warning.
 */
export function warnIfUnheard(
  cache: Cache,
  heardBy: number | undefined,
  logger: Logger | undefined = cache.settings.logger,
): void {
  if (heardBy !== 0) return
  INVALIDATION_UNHEARD.log(logger, cache.name, cache.settings.storeName ?? 'none')
}
