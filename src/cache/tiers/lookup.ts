import type { Emitter, Tier } from '../events.js'
import type { FleetSync } from '../model/fleet-sync.js'
import { type TagRegistry, Validity } from '../model/tag-registry.js'
import { type ANY_VERSION, Served, served } from '../model/validity.js'
import type { Counters } from '../stats.js'
import type { L1, L1Entry } from './l1.js'
import type { SharedEntry } from './shared.js'

export { ANY_VERSION, Served } from '../model/validity.js'

/**
 * The one lookup of every read: what an L1 entry, or a shared-tier entry, is to the caller — hit,
 * stale or miss, by the rule of `model/validity.ts` — and the one place hits and misses are
 * counted and reported (`stats()`, the `hit` and `miss` events). Hot path: nothing here allocates.
 */
export interface LookupHost {
  readonly l1: L1 | undefined
  readonly registry: TagRegistry
  readonly sync: FleetSync | undefined
  readonly counters: Counters
  readonly events: Emitter
}

/** Who is asking: the version it accepts and whether it rethrows cached failures. */
export type Version = string | undefined | typeof ANY_VERSION

/**
 * The L1 entry of `l1Key` unless it is invalidated (it may be expired, soft-stale or a cached
 * failure: {@link judge} decides). Its tags are checked once per registry generation; with
 * a bus, nothing is served from L1 before the first heartbeat, after a gap, or while distrusted.
 */
export function localEntry(host: LookupHost, l1Key: string): L1Entry | undefined {
  const entry = host.l1?.get(l1Key)
  if (entry === undefined) return undefined
  if (host.sync !== undefined && !host.sync.trusted) return undefined
  const generation = host.registry.generation
  if (entry.checkedAt !== generation) {
    // Something was invalidated since this entry was last checked: walk its tags once.
    entry.validity = host.registry.check(entry.tags, entry.start, entry.tagStarts)
    entry.checkedAt = generation
    if (entry.validity === Validity.Invalid) {
      host.l1?.delete(l1Key)
      return undefined
    }
  }
  return entry
}

/** The L1 entry of `l1Key` when it is a hit for this caller (not counted: see {@link countHit}). */
export function localHit(
  host: LookupHost,
  l1Key: string,
  now: number,
  version: Version,
  failures: boolean,
): L1Entry | undefined {
  const entry = localEntry(host, l1Key)
  return entry !== undefined &&
    served(entry, entry.validity, now, version, failures, 0) === Served.Hit
    ? entry
    : undefined
}

/**
 * What an entry is to this caller: one from {@link localEntry}, or one of the shared tier
 * (judged against the records as it was read).
 */
export function judge(
  entry: L1Entry | SharedEntry | undefined,
  now: number,
  version: Version,
  failures: boolean,
  graceMs: number,
): Served {
  return entry === undefined
    ? Served.Miss
    : served(entry, entry.validity, now, version, failures, graceMs)
}

/** Counts a hit served from `tier` and reports it (`hit` event, with `prefix + key`). */
export function countHit(
  host: LookupHost,
  prefix: string,
  key: string,
  tier: Tier,
  stale: boolean,
): void {
  if (tier === 'l1') host.counters.l1Hits++
  else host.counters.l2Hits++
  if (host.events.hasHitListeners) host.events.emit('hit', { key: prefix + key, tier, stale })
}

/**
 * Counts a miss of `fullKey` and reports it (`miss` event). `sharedAsked`: the shared tier was
 * asked too and had nothing to serve.
 */
export function countMiss(host: LookupHost, fullKey: string, sharedAsked: boolean): void {
  host.counters.misses++
  host.counters.l1Misses++
  if (sharedAsked) host.counters.l2Misses++
  if (host.events.has('miss')) host.events.emit('miss', { key: fullKey })
}
