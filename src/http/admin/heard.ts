import type { Cache } from '../../index.js'
import { INVALIDATION_UNHEARD, type Logger } from '../../warnings.js'

/**
 * How many other processes listen on `cache`'s store and bus, and so hear what it invalidates:
 * the fleet's members that say they listen (`FleetMember.listening`, the bus's one rule), this
 * cache left out. Undefined without a bus, or when the records cannot be read (the invalidation
 * itself is not failed for that).
 */
export async function listenersOf(cache: Cache): Promise<number | undefined> {
  if (cache.settings.maxSilenceMs === undefined) return undefined
  try {
    const members = await cache.members()
    return members.filter((member) => !member.self && member.listening).length
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
