import { collectionTag, entityTag } from '../index.js'
import type { Events } from './events.js'
import type { InvalidationTarget } from './options.js'
import type { Retry } from './retry.js'

/** One committed change set of a table: the keys it touched (old and new). */
export interface Change {
  entity: string
  keys: readonly string[]
}

/** The tags a batch of changes invalidates: each key's entity tag, each type's collection tag. */
export function tagsOf(changes: readonly Change[]): string[] {
  const tags = new Set<string>()
  for (const { entity, keys } of changes) {
    for (const key of keys) tags.add(entityTag(entity, key))
    tags.add(collectionTag(entity))
  }
  return [...tags]
}

/**
 * Records `tags` in the cache, `maxTagsPerCall` at a time, trying each part again (with
 * backoff) until it is recorded: the caller advances its position only after this resolves.
 * Rejects only when the retry is stopped (the listener closes).
 */
export async function record(
  cache: InvalidationTarget,
  tags: readonly string[],
  maxTagsPerCall: number,
  retry: Retry,
  events: Events,
): Promise<void> {
  for (let start = 0; start < tags.length; start += maxTagsPerCall) {
    const part = tags.slice(start, start + maxTagsPerCall)
    await retry.until(
      () => cache.invalidate(part),
      (error) => events.emit('error', { error, operation: 'invalidate' }),
    )
  }
}
