import type { FleetAsked } from '../../bus/bus.js'
import { CacheError } from '../../errors.js'
import { checkName, inTurn, parts } from '../../stores/batch-limits.js'
import type { InvalidationResult } from '../../types/options.js'
import type { Engine } from '../engine.js'
import { keyTag } from '../model/namespace.js'
import { channels, MAX_TRACED_DROPS, traced } from '../tracing.js'

/** How an invalidation is made. */
export interface InvalidateHow {
  /** Soft: entries may be served within their grace period while they refresh. */
  stale?: boolean
  /** Resolve once every other process applied it (`fleet`). */
  ack?: boolean
  /**
   * The tags are key tags of keys removed (`delete`, a `set` not stored): the store may keep a step
   * quiet when no stored entry ever carried them (`Store.invalidate`).
   */
  keys?: boolean
}

/**
 * Records an invalidation in the store (one call per part, whatever the number of dependents),
 * then in this process. A store failure still applies it here and rejects: it is never silent.
 */
export function invalidate(
  engine: Engine,
  tags: readonly string[],
  how: InvalidateHow = {},
): Promise<InvalidationResult> {
  if (!channels.invalidate.hasSubscribers) return run(engine, tags, how)
  const context = { tags, dropped: droppedKeys(engine, tags) }
  return traced(channels.invalidate, context, () => run(engine, tags, how))
}

/**
 * Full keys of the L1 entries that depend on one of `tags` (what the invalidation drops here),
 * for tracing only: a walk of the L1, bounded by {@link MAX_TRACED_DROPS} keys found.
 */
function droppedKeys(engine: Engine, tags: readonly string[]): string[] {
  const dropped: string[] = []
  if (engine.l1 === undefined) return dropped
  const wanted = new Set(tags)
  const keyTagPrefix = keyTag('')
  for (const [, entry] of engine.l1.entries()) {
    if (!entry.tags.some((tag) => wanted.has(tag))) continue
    const own = entry.tags.find((tag) => tag.startsWith(keyTagPrefix))
    if (own !== undefined) dropped.push(own.slice(keyTagPrefix.length))
    if (dropped.length === MAX_TRACED_DROPS) break
  }
  return dropped
}

async function run(
  engine: Engine,
  tags: readonly string[],
  how: InvalidateHow,
): Promise<InvalidationResult> {
  const stale = how.stale === true
  engine.assertOpen()
  // Refused up front, before anything is applied anywhere.
  for (const tag of tags) checkName(tag, 'tag')
  const shared = engine.shared
  let seq: number
  let epoch: string | undefined
  let asked: FleetAsked | undefined
  let applied = false
  if (shared === undefined) {
    seq = engine.sequence.nextLocal()
  } else {
    // In parts, one after the other: each part is one step of the sequence, applied here as
    // soon as it is recorded; the invalidation resolves once every part is (docs/invalidation.md).
    const store = shared.store
    const options = { stale, keys: how.keys === true }
    // The last part's step carries the acknowledgement request, where the bus has one to send.
    const ack = how.ack === true ? engine.sync?.ackRequest() : undefined
    const split = parts(tags, (tag) => tag.length)
    const last = split[split.length - 1]
    const budget = split.length > 1 ? shared.partBudget('invalidate', split.length) : undefined
    seq = engine.sequence.highest
    let done = 0
    try {
      await inTurn(split, async (part) => {
        const result = await shared.call(
          'invalidate',
          () =>
            store.invalidate(
              part,
              ack !== undefined && part === last ? { ...options, ack } : options,
            ),
          budget?.next(),
        )
        engine.sequence.observe(result.seq, result.epoch)
        if (split.length > 1) engine.applyOwn(part, result.seq, stale)
        seq = result.seq
        epoch = result.epoch
        asked = result.asked
        done++
      })
    } catch (error) {
      notRecorded(engine, split.slice(done).flat(), stale, error)
    }
    applied = split.length > 1
  }
  if (!applied) engine.applyOwn(tags, seq, stale)
  engine.counters.invalidations++
  if (engine.events.has('invalidate')) engine.events.emit('invalidate', { tags, seq, stale })
  if (how.ack !== true || engine.sync === undefined || epoch === undefined) return { tags, seq }
  return { tags, seq, fleet: await engine.sync.acknowledged(seq, epoch, asked) }
}

/**
 * The store did not record `tags` (the parts of an invalidation from the first that failed):
 * they are applied here, queued for replay, and the caller is told.
 */
function notRecorded(
  engine: Engine,
  tags: readonly string[],
  stale: boolean,
  error: unknown,
): never {
  engine.registry.apply(tags, engine.sequence.highest + 1, stale)
  // A repeated failure applies the same guessed sequence: nothing may look unchanged to the
  // loads already running (callers must not join one that read the data before this).
  engine.registry.touch()
  engine.storeFailed(error, 'invalidate')
  if (engine.shared?.queue(tags, stale) === true) {
    engine.reportError(
      new CacheError(
        'E_INVALIDATION_NOT_RECORDED',
        'cachegraph: the replay queue overflowed; it will invalidate the whole cache once the store is back',
      ),
      'invalidate',
    )
  }
  throw new CacheError(
    'E_INVALIDATION_NOT_RECORDED',
    `cachegraph: invalidation of ${describeTags(tags)} applied in this process only; the shared store did not record it (queued for replay)`,
    { cause: error },
  )
}

/** The first few tags and how many there are: messages stay short whatever the batch. */
function describeTags(tags: readonly string[]): string {
  const shown = tags.slice(0, 5).map((tag) => (tag.length > 100 ? `${tag.slice(0, 100)}...` : tag))
  return tags.length <= 5 ? shown.join(', ') : `${tags.length} tags (${shown.join(', ')}, ...)`
}
