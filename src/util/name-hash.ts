/**
 * A 32-bit FNV-1a hash of a name's UTF-16 code units: the bucket of a tag in the fixed-size
 * sketch that stands in for records not kept (`seq-sketch.ts`). Not for anything an attacker could
 * profit from colliding: a collision there costs a check, never a stale read.
 */
export function nameHash(name: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < name.length; i++) {
    hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193)
  }
  return hash >>> 0
}

/** The power of two at or above `n` (at least 1), capped at `max`. */
export function bucketCount(n: number, max: number): number {
  let size = 1
  while (size < n && size < max) size *= 2
  return size
}
