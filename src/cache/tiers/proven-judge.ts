import type { StoredRecord, TagSeq } from '../../stores/store.js'
import { type TagRegistry, Validity } from '../model/tag-registry.js'

/**
 * The validity of an entry the store proved valid as of its read ({@link Store.readProven}): no
 * record of the store's is above its tags' starts, so only what this process knows beyond the
 * store can invalidate it. The records this process has settle it but for a tag it forgot below
 * its floor; then the store's word for each tag ({@link provenBounds}) stands in for the forgotten
 * record, as a checked read's records would. Also the validity of an unchecked entry (with a
 * bus) this process decides by its own records (`TagRegistry.decides`): then it is `check`.
 */
export function judgeProven(registry: TagRegistry, record: StoredRecord): Validity {
  const { tags, start, tagStarts } = record
  if (registry.decides(tags, start, tagStarts)) {
    // Decided with no record at all (a process that never heard of an invalidation): valid.
    return registry.size === 0 ? Validity.Valid : registry.check(tags, start, tagStarts)
  }
  return registry.checkRead(tags, start, tagStarts, provenBounds(record))
}

/** The store's records of a proven entry's tags, bounded from above: each tag's own start. */
export function provenBounds(record: StoredRecord): Record<string, TagSeq> {
  const bounds: Record<string, TagSeq> = {}
  record.tags.forEach((tag, i) => {
    const bound = record.tagStarts?.[i] ?? record.start
    // A tag named twice takes its lowest start: every bound is at least the record.
    const known = bounds[tag]
    if (known === undefined || known.hard > bound) bounds[tag] = { hard: bound, soft: bound }
  })
  return bounds
}
