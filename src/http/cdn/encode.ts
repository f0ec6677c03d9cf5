import { createHash } from 'node:crypto'

import type { VendorProfile } from './vendors.js'

/** Hex digits of SHA-256 kept in a hashed tag: 128 bits, so two tags never meet by chance. */
const HASH_HEX = 32
/** Coarse tags a response falls back to when its own do not all fit: see {@link bucketTag}. */
export const BUCKETS = 64

const hash = (text: string): string => createHash('sha256').update(text).digest('hex')

/**
 * A cache tag as this vendor's header can carry it, the same in responses and in purges.
 *
 * Every byte outside the vendor's safe set is percent-encoded (UTF-8), `%` and `!` included, so
 * the encoding is reversible while the tag fits. A tag whose encoding is longer than the
 * vendor's limit becomes `<readable head>!<32 hex of SHA-256 of the tag>`: `!` never occurs in
 * an encoded tag, so a hashed tag cannot equal another tag's plain encoding.
 */
export function encodeTag(tag: string, profile: VendorProfile): string {
  let out = ''
  for (const char of tag) {
    if (profile.safe.test(char)) out += char
    else for (const byte of Buffer.from(char, 'utf8')) out += `%${hex(byte)}`
  }
  if (out.length <= profile.maxTagBytes) return out
  const room = profile.maxTagBytes - HASH_HEX - 1
  // Do not cut a `%XX` escape in two: a head ending in `%4` would read as a different tag.
  const head = out.slice(0, room).replace(/%[0-9A-F]?$/, '')
  return `${head}!${hash(tag).slice(0, HASH_HEX)}`
}

/**
 * The coarse tag standing in for `tag` on responses that cannot carry all their tags: one of
 * {@link BUCKETS} buckets by hash. Every purge also purges the buckets of its tags, so a response
 * that carries a bucket instead of a tag is still purged with it (along with, on average, one
 * in {@link BUCKETS} of the other overflowing responses).
 */
export function bucketTag(tag: string): string {
  return `!cg-bucket-${Number.parseInt(hash(tag).slice(0, 8), 16) % BUCKETS}`
}

/** What a purge of `tags` sends: each tag encoded, and its bucket. Deduplicated, in order. */
export function purgeTags(tags: readonly string[], profile: VendorProfile): string[] {
  const out = new Set<string>()
  for (const tag of tags) out.add(encodeTag(tag, profile))
  for (const tag of tags) out.add(bucketTag(tag))
  return [...out]
}

const hex = (byte: number): string => byte.toString(16).toUpperCase().padStart(2, '0')
