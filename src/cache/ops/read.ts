import { currentFrame, mergeInto } from '../model/frame.js'
import { type Engine } from '../engine.js'
import { l1KeyOf, type Namespace } from '../model/namespace.js'
import type { L1Entry } from '../tiers/l1.js'
import { ANY_VERSION, countHit, countMiss, judge, localHit, Served } from '../tiers/lookup.js'

/** Counts an L1 hit, reports it, and records its dependencies in the enclosing load. */
export function recordHit(engine: Engine, ns: Namespace, key: string, entry: L1Entry): void {
  countHit(engine, ns.prefix, key, 'l1', false)
  const parent = currentFrame()
  if (parent !== undefined)
    mergeInto(parent, entry.tags, entry.start, entry.tagStarts, entry.expiresAt)
}

/**
 * `get` / `getMany`: values of `keys` in order (`undefined` where missing) from L1, then one
 * shared-tier read for all L1 misses, whose values fill L1 with their original `start`. A cached
 * failure (`cacheErrors`) is for `getOrSet` to rethrow: here the key has no value.
 */
export async function readMany(
  engine: Engine,
  ns: Namespace,
  keys: readonly string[],
): Promise<unknown[]> {
  const values: unknown[] = []
  const misses: number[] = []
  const now = engine.clock.now()
  keys.forEach((key, i) => {
    const entry = localHit(engine, l1KeyOf(ns, key), now, ANY_VERSION, false)
    if (entry === undefined) return void misses.push(i)
    recordHit(engine, ns, key, entry)
    values[i] = engine.handOut(entry.value)
  })
  if (misses.length === 0) return values
  const missKeys = misses.map((i) => keys[i] as string)
  const fetched = await readSharedValues(engine, ns, missKeys, true)
  misses.forEach((index, n) => (values[index] = fetched[n]))
  return values
}

/** `has`: a live value in L1 or the shared tier (no hit counted, no dependency recorded). */
export async function hasLive(engine: Engine, ns: Namespace, key: string): Promise<boolean> {
  const now = engine.clock.now()
  if (localHit(engine, l1KeyOf(ns, key), now, ANY_VERSION, false) !== undefined) return true
  if (engine.shared === undefined) return false
  return (await readSharedValues(engine, ns, [key], false))[0] !== undefined
}

/**
 * The values the shared tier holds for `keys` (undefined where it has none to serve).
 * `record`: count and report hits and misses, fill L1 and record dependencies (`get`), or only
 * look (`has`).
 */
async function readSharedValues(
  engine: Engine,
  ns: Namespace,
  keys: readonly string[],
  record: boolean,
): Promise<unknown[]> {
  const fullKeys = keys.map((key) => ns.prefix + key)
  const read = engine.shared === undefined ? undefined : await engine.shared.read(fullKeys)
  const now = engine.clock.now()
  const parent = record ? currentFrame() : undefined
  return fullKeys.map((fullKey, i) => {
    const entry = read?.entries[i]
    const live = entry !== undefined && judge(entry, now, ANY_VERSION, false, 0) === Served.Hit
    if (!record) return live ? entry.value : undefined
    if (!live) return void countMiss(engine, fullKey, engine.shared !== undefined)
    countHit(engine, ns.prefix, keys[i] as string, 'l2', false)
    engine.fillL1(l1KeyOf(ns, keys[i] as string), entry, now)
    mergeInto(parent, entry.tags, entry.start, entry.tagStarts, entry.expiresAt)
    return entry.value
  })
}
