import { currentFrame, type LoadFrame, mergeInto } from '../model/frame.js'
import { type Engine } from '../engine.js'
import { l1KeyOf, type Namespace } from '../model/namespace.js'
import type { L1Entry } from '../tiers/l1.js'
import type { SharedEntry } from '../tiers/shared.js'
import { ANY_VERSION, countHit, countMiss, judge, localHit, Served } from '../tiers/lookup.js'

/** Counts an L1 hit, reports it, and records its dependencies in the enclosing load. */
export function recordHit(engine: Engine, ns: Namespace, key: string, entry: L1Entry): void {
  countHit(engine, ns.prefix, key, 'l1', false)
  const parent = currentFrame()
  if (parent !== undefined)
    mergeInto(parent, entry.tags, entry.start, entry.tagStarts, entry.expiresAt)
}

/** The L1 entry of `key` when it is a hit for `get`, counted and recorded; else undefined. */
function l1Hit(engine: Engine, ns: Namespace, key: string, now: number): L1Entry | undefined {
  const entry = localHit(engine, l1KeyOf(ns, key), now, ANY_VERSION, false)
  if (entry !== undefined) recordHit(engine, ns, key, entry)
  return entry
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
    const entry = l1Hit(engine, ns, key, now)
    if (entry === undefined) return void misses.push(i)
    values[i] = engine.handOut(entry.value)
  })
  if (misses.length === 0) return values
  const missKeys = misses.map((i) => keys[i] as string)
  const fetched = await readSharedValues(engine, ns, missKeys, true)
  misses.forEach((index, n) => (values[index] = fetched[n]))
  return values
}

/**
 * `get`: {@link readMany} of one key, with no arrays and one async step on the way — the path of
 * every shared-tier hit of `get`.
 */
export async function readOne(engine: Engine, ns: Namespace, key: string): Promise<unknown> {
  const entry = l1Hit(engine, ns, key, engine.clock.now())
  if (entry !== undefined) return engine.handOut(entry.value)
  const shared = engine.shared
  const fullKey = ns.prefix + key
  const read = shared === undefined ? undefined : await shared.read([fullKey])
  const found = read?.entries[0]
  return takeShared(engine, ns, key, fullKey, found, engine.clock.now(), currentFrame())
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
  if (!record) {
    return fullKeys.map((_, i) => {
      const entry = read?.entries[i]
      return entry !== undefined && judge(entry, now, ANY_VERSION, false, 0) === Served.Hit
        ? entry.value
        : undefined
    })
  }
  const parent = currentFrame()
  return fullKeys.map((fullKey, i) =>
    takeShared(engine, ns, keys[i] as string, fullKey, read?.entries[i], now, parent),
  )
}

/**
 * The value a shared-tier read found for `key` when it is a hit — counted, kept in L1 and
 * recorded as a dependency of the enclosing load (`parent`) — or `undefined`, counted as a miss.
 */
function takeShared(
  engine: Engine,
  ns: Namespace,
  key: string,
  fullKey: string,
  entry: SharedEntry | undefined,
  now: number,
  parent: LoadFrame | undefined,
): unknown {
  if (entry === undefined || judge(entry, now, ANY_VERSION, false, 0) !== Served.Hit) {
    return void countMiss(engine, fullKey, engine.shared !== undefined)
  }
  countHit(engine, ns.prefix, key, 'l2', false)
  engine.fillL1(l1KeyOf(ns, key), entry, now)
  mergeInto(parent, entry.tags, entry.start, entry.tagStarts, entry.expiresAt)
  return entry.value
}
