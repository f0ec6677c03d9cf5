import { currentFrame, frameTags, mergeInto, newFrame, runInFrame } from '../model/frame.js'
import { type LoadMany, type ManyResult, pick } from '../../memo/batch.js'
import type { Duration } from '../../util/duration.js'
import { toMs } from '../../util/duration.js'
import type { Engine } from '../engine.js'
import type { Namespace, PendingWrite } from '../model/namespace.js'
import { keyTag, l1KeyOf } from '../model/namespace.js'
import { ANY_VERSION, countHit, countMiss, judge, localHit, Served } from '../tiers/lookup.js'
import { commit } from './write.js'

/** Options of `cache.getOrSetMany`. */
export interface GetOrSetManyOptions<V> {
  /** Time to live of each entry. @default the cache's `ttl` */
  ttl?: Duration
  /** Tags of one key's entry, from its key and value. */
  tags?: (key: string, value: V) => readonly string[]
}

/**
 * `getOrSetMany`: values of `keys` from L1, then one shared-tier read for the misses, then one
 * `loadMany` call for what is still missing, stored with one write. Each value is as of the
 * sequence read before `loadMany` ran, so an invalidation during the load voids its writes, as
 * for `getOrSet`. Keys `loadMany` does not return are not cached (their value is `undefined`).
 */
export async function getOrSetMany<V>(
  engine: Engine,
  ns: Namespace,
  keys: readonly string[],
  loadMany: LoadMany<V>,
  options: GetOrSetManyOptions<V>,
): Promise<(V | undefined)[]> {
  const parent = currentFrame()
  const values = new Map<string, V | undefined>()
  const unique = [...new Set(keys)]
  const now = engine.clock.now()
  // A cached failure is not a value here: its key is loaded again.
  let missing = unique.filter((key) => {
    const entry = localHit(engine, l1KeyOf(ns, key), now, ANY_VERSION, false)
    if (entry === undefined) return true
    countHit(engine, ns.prefix, key, 'l1', false)
    mergeInto(parent, entry.tags, entry.start, entry.tagStarts, entry.expiresAt)
    values.set(key, engine.handOut(entry.value) as V)
    return false
  })
  let start = engine.localSeq()
  const sharedAsked = missing.length > 0 && engine.shared !== undefined
  if (sharedAsked && engine.shared !== undefined) {
    const read = await engine.shared.read(missing.map((key) => ns.prefix + key))
    const readAt = engine.clock.now()
    missing = missing.filter((key, i) => {
      const entry = read?.entries[i]
      if (entry === undefined || judge(entry, readAt, ANY_VERSION, false, 0) !== Served.Hit)
        return true
      countHit(engine, ns.prefix, key, 'l2', false)
      engine.fillL1(l1KeyOf(ns, key), entry, readAt)
      mergeInto(parent, entry.tags, entry.start, entry.tagStarts, entry.expiresAt)
      values.set(key, entry.value as V)
      return false
    })
    start = read?.seq ?? -Infinity
  }
  if (missing.length > 0) {
    for (const key of missing) countMiss(engine, ns.prefix + key, sharedAsked)
    engine.counters.loads++
    const frame = newFrame(ns.tags, start as number)
    const result: ManyResult<V> = await runInFrame(frame, () => loadMany([...missing]))
    const loaded = pick(result, missing)
    const { tags: shared, tagStarts } = frameTags(frame)
    const loadedAt = engine.clock.now()
    const ttlMs = Math.min(
      options.ttl === undefined ? engine.options.ttlMs : toMs(options.ttl, 'ttl'),
      frame.expiresAt - loadedAt,
    )
    const writes: PendingWrite[] = []
    for (const key of missing) {
      const value = loaded(key)
      values.set(key, value)
      if (value === undefined || !Number.isFinite(frame.start)) continue
      const own = options.tags?.(key, value) ?? []
      const fullKey = ns.prefix + key
      writes.push({
        fullKey,
        l1Key: l1KeyOf(ns, key),
        value,
        tags: [...shared, ...own, keyTag(fullKey)],
        start: frame.start,
        tagStarts:
          tagStarts === undefined
            ? undefined
            : [...tagStarts, ...own.map(() => frame.ownStart), frame.ownStart],
        ttlMs,
      })
    }
    mergeInto(parent, shared, frame.start, tagStarts, frame.expiresAt)
    if (writes.length > 0 && ttlMs > 0) {
      try {
        await commit(engine, writes, loadedAt)
      } catch (error) {
        engine.reportError(error, 'set', writes[0]?.fullKey)
      }
    }
  }
  return keys.map((key) => values.get(key))
}
