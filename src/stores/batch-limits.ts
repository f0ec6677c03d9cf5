import { CacheError } from '../errors.js'

/**
 * How big one call to a store may get, and what is too big to send at all (SPEC §5b). A batch of
 * any length is split into parts within these limits, sent one after the other: no single command
 * exceeds Redis's argument or Lua limits, no single script keeps Redis busy for long, and other
 * callers' commands go out between the parts. docs/redis.md lists the limits and their costs.
 */

/** Entries or tags in one part of a batch (one Redis script, one guarded engine call). */
export const MAX_PART_ITEMS = 1_000

/**
 * Keys in one part of a read. Smaller than a write's: each part must answer within the read
 * limit (50 ms by default) on a busy machine, and a checked read of 1,000 keys took up to 66 ms
 * inside a Redis sharing 2 cores with other work; 250 keep a wide margin.
 */
export const MAX_READ_ITEMS = 250

/**
 * Bytes of keys, tags and payloads in one part. A soft cap: an item bigger than this goes alone.
 * Redis takes up to 1 GB per command (`client-query-buffer-limit`); parts stay far below it.
 */
export const MAX_PART_BYTES = 8 * 1024 * 1024

/**
 * A key or tag, in UTF-8 bytes. It is a field of the tag records (kept without a ttl) and travels
 * in every bus message and the replay log, so longer ones are refused up front (`E_TOO_LARGE`).
 */
export const MAX_NAME_BYTES = 64 * 1024

/** One entry's payload: a Redis string is at most 512 MB (`proto-max-bulk-len`). */
export const MAX_PAYLOAD_BYTES = 512 * 1024 * 1024 - MAX_NAME_BYTES

/**
 * UTF-8 bytes of `text`, computed only when its length alone does not settle the comparison with
 * `limit` (at most 3 bytes per UTF-16 unit): the common short string costs one comparison.
 */
export function exceeds(text: string, limit: number): boolean {
  if (text.length * 3 <= limit) return false
  if (text.length > limit) return true
  return Buffer.byteLength(text) > limit
}

/** Refuses a key or tag over {@link MAX_NAME_BYTES}; `what` names it in the message. */
export function checkName(name: string, what: 'key' | 'tag'): void {
  if (exceeds(name, MAX_NAME_BYTES)) {
    throw new CacheError(
      'E_TOO_LARGE',
      `cachegraph: a ${what} of ${name.length} characters is over the limit of ${MAX_NAME_BYTES} bytes (${JSON.stringify(name.slice(0, 40))}...); nothing was changed`,
    )
  }
}

/** Refuses a payload over {@link MAX_PAYLOAD_BYTES}. */
export function checkPayload(key: string, payload: string): void {
  if (exceeds(payload, MAX_PAYLOAD_BYTES)) {
    throw new CacheError(
      'E_TOO_LARGE',
      `cachegraph: the value of '${key.slice(0, 200)}' is over the limit of ${MAX_PAYLOAD_BYTES} bytes once serialized; nothing was changed`,
    )
  }
}

/**
 * `items` in order, cut into parts of at most `maxItems` items and, when `sizeOf` is
 * given, about {@link MAX_PART_BYTES} (in string length: bytes or UTF-16 units, either is fine
 * for a soft cap). A batch within the limits is returned as its only part, not copied.
 */
export function parts<T>(
  items: readonly T[],
  sizeOf?: (item: T) => number,
  maxItems = MAX_PART_ITEMS,
): (readonly T[])[] {
  if (items.length <= maxItems && sizeOf === undefined) return [items]
  const out: T[][] = []
  let part: T[] = []
  let bytes = 0
  for (const item of items) {
    const size = sizeOf === undefined ? 0 : sizeOf(item)
    if (part.length > 0 && (part.length >= maxItems || bytes + size > MAX_PART_BYTES)) {
      out.push(part)
      part = []
      bytes = 0
    }
    part.push(item)
    bytes += size
  }
  if (part.length > 0 || out.length === 0) out.push(part)
  return out.length === 1 ? [items] : out
}

/**
 * Calls `call` for each part in turn, never in parallel: a big batch then holds the connection
 * (and Redis) for one part at a time, and the commands of other callers go out in between.
 */
export async function inTurn<T, R>(
  split: readonly (readonly T[])[],
  call: (part: readonly T[]) => Promise<R>,
): Promise<R[]> {
  const results: R[] = []
  for (const part of split) results.push(await call(part))
  return results
}

/** A rough size of an entry, for {@link parts}: key, payload and tags. */
export function entrySize(entry: {
  key: string
  payload: string
  tags: readonly string[]
}): number {
  return entry.key.length + entry.payload.length + checkedSize(entry)
}

/** A rough size of an entry checked without its key and payload (`Store.check`): its tags. */
export function checkedSize(entry: { tags: readonly string[] }): number {
  let size = 64
  for (const tag of entry.tags) size += tag.length + 3
  return size
}
