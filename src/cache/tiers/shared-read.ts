import { CacheError, isCacheError } from '../../errors.js'
import type { Store, StoreReadResult } from '../../stores/store.js'
import type { Engine } from '../engine.js'

/**
 * Reads `keys` from the shared tier; undefined (reported, not thrown — unless `strict`) when it is
 * unreachable.
 *
 * With a trusted bus that has delivered every step up to the store's current sequence, the
 * entries are fetched unchecked (one plain `MGET` on Redis, no script) and judged here; the few
 * whose tags this process cannot vouch for are read again with the store's check. `timeoutMs`:
 * the limit of each call when not the read limit itself (a part of a big read).
 */
export async function readShared(
  engine: Engine,
  keys: readonly string[],
  timeoutMs?: number,
): Promise<StoreReadResult | undefined> {
  const store = engine.store as Store
  const sync = engine.sync
  if (sync?.trusted === true && store.readUnchecked !== undefined) {
    const readUnchecked = store.readUnchecked.bind(store)
    const fast = await attempt(engine, () => readUnchecked(keys), timeoutMs)
    if (fast === FAILED) return undefined
    if (fast !== undefined && sync.covers(fast.seq, fast.epoch)) {
      engine.observe(fast.seq, fast.epoch)
      return judgeUnchecked(engine, keys, fast, timeoutMs)
    }
  }
  return readChecked(engine, keys, timeoutMs)
}

async function readChecked(
  engine: Engine,
  keys: readonly string[],
  timeoutMs?: number,
): Promise<StoreReadResult | undefined> {
  const store = engine.store as Store
  const result = await attempt(engine, () => store.read(keys), timeoutMs)
  if (result === FAILED) return undefined
  engine.observe(result.seq, result.epoch)
  engine.registry.learn(result.tagSeqs)
  return result
}

/** Keeps the entries this process can judge; reads the others again, checked by the store. */
async function judgeUnchecked(
  engine: Engine,
  keys: readonly string[],
  fast: StoreReadResult,
  timeoutMs?: number,
): Promise<StoreReadResult | undefined> {
  const unsure: number[] = []
  fast.entries.forEach((entry, i) => {
    if (entry !== undefined && !engine.registry.decides(entry.tags, entry.start, entry.tagStarts))
      unsure.push(i)
  })
  if (unsure.length === 0) return fast
  const checked = await readChecked(
    engine,
    unsure.map((i) => keys[i] as string),
    timeoutMs,
  )
  // Unreachable now: what cannot be vouched for is a miss.
  unsure.forEach((i, n) => (fast.entries[i] = checked?.entries[n]))
  return fast
}

const FAILED = Symbol('failed')

/** One guarded store read; a failure is counted and reported, and thrown only to strict readers. */
async function attempt<T>(
  engine: Engine,
  call: () => Promise<T>,
  timeoutMs?: number,
): Promise<T | typeof FAILED> {
  try {
    return await engine.callStore('read', call, timeoutMs)
  } catch (error) {
    engine.storeFailed(error, 'store:read')
    if (engine.options.strict) {
      throw isCacheError(error)
        ? error
        : new CacheError('E_STORE', 'cachegraph: the shared store failed', { cause: error })
    }
    return FAILED
  }
}
