import { bucketTag, encodeTag } from './encode.js'
import type { VendorProfile } from './vendors.js'

/** Browser `Cache-Control` added to an edge-cached response that set none (see docs/cdn.md). */
export const BROWSER_CACHE_CONTROL = 'max-age=0, must-revalidate'
/** `Cache-Control` of a response no edge may keep (its tags cannot be carried). */
export const PRIVATE_CACHE_CONTROL = 'private, no-cache'

/**
 * The tags a response carries at the edge, encoded, within the vendor's limits; `undefined`
 * when even the coarse fallback does not fit (the response must then not be edge-cached).
 *
 * Path tags (`http:...`) come first. When all tags do not fit, the longest prefix that does is
 * kept and each tag past it is replaced by its bucket ({@link bucketTag}), which every purge of
 * that tag also purges: the response stays purgeable by each of its tags.
 */
export function edgeTags(tags: Iterable<string>, profile: VendorProfile): string[] | undefined {
  const raw: string[] = []
  const encoded: string[] = []
  const seen = new Set<string>()
  const ordered = [...tags].filter((tag) => !tag.startsWith('@'))
  ordered.sort((a, b) => Number(!a.startsWith('http:')) - Number(!b.startsWith('http:')))
  for (const tag of ordered) {
    const e = encodeTag(tag, profile)
    if (seen.has(e)) continue
    seen.add(e)
    raw.push(tag)
    encoded.push(e)
  }
  const sep = profile.separator.length
  // prefix[k]: bytes of the first k encoded tags joined.
  const prefix = [0]
  for (const [i, e] of encoded.entries()) prefix.push((prefix[i] as number) + e.length + sep)
  const bytes = (k: number, extraCount: number, extraBytes: number): number =>
    Math.max(0, (prefix[k] as number) + extraBytes - (k + extraCount > 0 ? sep : 0))
  const buckets = new Set<string>()
  let bucketBytes = 0
  for (let k = encoded.length; k >= 0; k--) {
    if (k < encoded.length) {
      const bucket = bucketTag(raw[k] as string)
      if (!buckets.has(bucket) && !seen.has(bucket)) {
        buckets.add(bucket)
        bucketBytes += bucket.length + sep
      }
    }
    const count = k + buckets.size
    if (count <= profile.maxTags && bytes(k, buckets.size, bucketBytes) <= profile.maxHeaderBytes) {
      return [...encoded.slice(0, k), ...buckets]
    }
  }
  return undefined
}

/**
 * Headers of a response the edge may keep for `lifetimeMs`, tagged with `tags`; or of one it
 * must not keep (no tags fit, or no lifetime left). `ownCacheControl`: the app set a
 * `Cache-Control` of its own, left as it is for browsers.
 */
export function edgeHeaders(
  profile: VendorProfile,
  tags: readonly string[] | undefined,
  lifetimeMs: number,
  ownCacheControl: boolean,
): Record<string, string> {
  const seconds = Math.floor(lifetimeMs / 1000)
  if (tags === undefined || seconds <= 0) return noStoreHeaders(profile)
  const headers: Record<string, string> = {
    [profile.tagHeader]: tags.join(profile.separator),
    [profile.controlHeader]: `max-age=${seconds}`,
  }
  if (!ownCacheControl) headers['cache-control'] = BROWSER_CACHE_CONTROL
  return headers
}

/** Headers keeping a response out of the edge (and out of every shared cache). */
export function noStoreHeaders(profile: VendorProfile): Record<string, string> {
  return { [profile.controlHeader]: 'no-store', 'cache-control': PRIVATE_CACHE_CONTROL }
}
