/**
 * Follows a cache's bus state through its public events: whether the L1 may serve hits right now
 * (a hit while distrusted is a bug of its own), and counts for the report.
 */
import type { Cache } from '../../src/index.js'
import type { BusTally } from './protocol.js'

export interface BusWatch {
  readonly trusted: boolean
  readonly tally: BusTally
  /** Resolves once the bus vouches for the cache (first heartbeat after start). */
  untilTrusted(timeoutMs: number): Promise<void>
}

/** `hasBus: false`: a cache without a bus, whose L1 nothing ever distrusts. */
export function watchBus(cache: Cache, hasBus: boolean): BusWatch {
  let trusted = !hasBus
  const waiters: (() => void)[] = []
  const tally: BusTally = {
    distrusted: {},
    trusted: 0,
    syncs: 0,
    startedOver: 0,
    storeResets: 0,
    replayedSteps: 0,
    circuitOpens: 0,
    cacheErrors: 0,
  }
  cache.on('bus:trusted', () => {
    trusted = true
    tally.trusted++
    waiters.splice(0).forEach((wake) => wake())
  })
  cache.on('bus:distrusted', ({ reason }) => {
    trusted = false
    tally.distrusted[reason] = (tally.distrusted[reason] ?? 0) + 1
  })
  cache.on('bus:sync', ({ startedOver }) => {
    tally.syncs++
    if (startedOver) tally.startedOver++
  })
  cache.on('store:reset', () => void tally.storeResets++)
  cache.on('store:circuit', ({ state }) => void (state === 'open' && tally.circuitOpens++))
  cache.on('error', ({ error, operation }) => {
    tally.cacheErrors++
    tally.firstCacheError ??= `${operation}: ${error instanceof Error ? error.message : String(error)}`
  })
  return {
    get trusted() {
      return trusted
    },
    tally,
    untilTrusted: (timeoutMs) =>
      trusted
        ? Promise.resolve()
        : new Promise((resolve, reject) => {
            const timer = setTimeout(
              () => reject(new Error(`freshness: the bus did not vouch within ${timeoutMs} ms`)),
              timeoutMs,
            )
            waiters.push(() => (clearTimeout(timer), resolve()))
          }),
  }
}
