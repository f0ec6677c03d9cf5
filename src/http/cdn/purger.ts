import type { CdnVendor } from './vendors.js'

/**
 * Removes objects tagged with any of `tags` from an edge. Tags are the cache's own
 * (`user:7`, `http:/users/*`): a purger encodes them exactly as the vendor's tag header does,
 * and also purges their buckets (see docs/cdn.md), so an object is reached whatever its tags
 * had to become to fit. Rejects when the purge failed for good (after its retries).
 */
export interface Purger {
  /** The CDN this purger talks to: must match the `cdn` option's vendor when given. */
  readonly vendor?: CdnVendor
  purge(tags: readonly string[]): Promise<void>
}
