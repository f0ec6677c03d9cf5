import { currentFrame, mergeInto } from '../model/frame.js'
import { CachedFailure } from '../tiers/entry-codec.js'
import { type Engine, l1KeyOf, type Namespace } from '../engine.js'
import type { L1Entry } from '../tiers/l1.js'
import { Validity } from '../model/tag-registry.js'

/** Counts an L1 hit, reports it, and records its dependencies in the enclosing load. */
export function recordHit(engine: Engine, ns: Namespace, key: string, entry: L1Entry): void {
  engine.counters.l1Hits++
  if (engine.events.hasHitListeners) {
    engine.events.emit('hit', { key: ns.prefix + key, tier: 'l1', stale: false })
  }
  const parent = currentFrame()
  if (parent !== undefined)
    mergeInto(parent, entry.tags, entry.start, entry.tagStarts, entry.expiresAt)
}

/**
 * A live, fresh L1 entry of `key` holding a value, if any. A cached failure (`cacheErrors`) is
 * for `getOrSet` to rethrow; to `get`, `getMany` and `has` the key has no value.
 */
function freshL1(engine: Engine, ns: Namespace, key: string): L1Entry | undefined {
  const entry = engine.lookupL1(l1KeyOf(ns, key))
  return entry !== undefined &&
    entry.validity === Validity.Valid &&
    engine.clock.now() < entry.expiresAt &&
    !entry.failure
    ? entry
    : undefined
}

/**
 * `get` / `getMany`: values of `keys` in order (`undefined` where missing) from L1, then one
 * shared-tier read for all L1 misses, whose values fill L1 with their original `start`.
 */
export async function readMany(
  engine: Engine,
  ns: Namespace,
  keys: readonly string[],
): Promise<unknown[]> {
  const values: unknown[] = []
  const misses: number[] = []
  keys.forEach((key, i) => {
    const entry = freshL1(engine, ns, key)
    if (entry === undefined) return void misses.push(i)
    recordHit(engine, ns, key, entry)
    values[i] = engine.handOut(entry.value)
  })
  if (misses.length === 0) return values
  const missKeys = misses.map((i) => keys[i] as string)
  const fetched = await readShared(engine, ns, missKeys, true)
  misses.forEach((index, n) => (values[index] = fetched[n]))
  return values
}

/** `has`: a live value in L1 or the shared tier (no hit counted, no dependency recorded). */
export async function hasLive(engine: Engine, ns: Namespace, key: string): Promise<boolean> {
  if (freshL1(engine, ns, key) !== undefined) return true
  if (engine.store === undefined) return false
  return (await readShared(engine, ns, [key], false))[0] !== undefined
}

async function readShared(
  engine: Engine,
  ns: Namespace,
  keys: readonly string[],
  record: boolean,
): Promise<unknown[]> {
  const fullKeys = keys.map((key) => ns.prefix + key)
  const read = engine.store === undefined ? undefined : await engine.readStore(fullKeys)
  const now = engine.clock.now()
  const parent = record ? currentFrame() : undefined
  return fullKeys.map((fullKey, i) => {
    const stored = read?.entries[i]
    const entry = stored === undefined ? undefined : engine.decode(fullKey, stored)
    const live =
      entry !== undefined &&
      now < entry.expiresAt &&
      !(entry.value instanceof CachedFailure) &&
      engine.registry.check(entry.tags, entry.start, entry.tagStarts) === Validity.Valid
    if (!record) return live ? entry.value : undefined
    if (!live) {
      engine.counters.misses++
      engine.counters.l1Misses++
      if (engine.store !== undefined) engine.counters.l2Misses++
      if (engine.events.has('miss')) engine.events.emit('miss', { key: fullKey })
      return undefined
    }
    engine.counters.l2Hits++
    if (engine.events.has('hit'))
      engine.events.emit('hit', { key: fullKey, tier: 'l2', stale: false })
    engine.fillL1(l1KeyOf(ns, keys[i] as string), entry, now)
    mergeInto(parent, entry.tags, entry.start, entry.tagStarts, entry.expiresAt)
    return entry.value
  })
}
