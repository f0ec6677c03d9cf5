import { edgeHeaders, edgeTags, noStoreHeaders } from './edge-headers.js'
import type { ResolvedCdn } from './options.js'
import { type VendorProfile, VENDORS } from './vendors.js'

/** What a stored response keeps for the edge: its tag headers, and when it stops being fresh. */
export interface EdgeInfo {
  /** The encoded tags (`undefined`: they do not fit; the edge must not keep the response). */
  readonly tags: readonly string[] | undefined
  /** The app set its own `Cache-Control`. */
  readonly ownCacheControl: boolean
  /** When the cached response expires, by the HTTP options' clock. */
  readonly expiresAt: number
}

/**
 * The HTTP core's CDN side: the headers of cached responses, and purges after writes (once at
 * once, once more after `maxSilence`). Never throws into a request: failures go to `report`.
 */
export class Cdn {
  readonly #o: ResolvedCdn
  readonly #profile: VendorProfile
  readonly #report: (error: unknown) => void
  /** Headers of `SKIP` responses: the edge must not keep what carries no tags. */
  readonly skipHeaders: Readonly<Record<string, string>>

  constructor(options: ResolvedCdn, report: (error: unknown) => void) {
    this.#o = options
    this.#profile = VENDORS[options.vendor]
    this.#report = report
    this.skipHeaders = noStoreHeaders(this.#profile)
  }

  /** The edge side of a response being stored now with `tags`, living `lifetimeMs`. */
  edgeInfo(tags: Iterable<string>, lifetimeMs: number, ownCacheControl: boolean, now: number) {
    const info: EdgeInfo = {
      tags: edgeTags(tags, this.#profile),
      ownCacheControl,
      expiresAt: now + Math.max(0, lifetimeMs),
    }
    return info
  }

  /** Headers of a response with `edge` sent at `now` (a MISS, or a later HIT). */
  headers(edge: EdgeInfo | undefined, now: number): Record<string, string> {
    // Stored before the cdn option was set: no tags known, so the edge must not keep it.
    if (edge === undefined) return { ...this.skipHeaders }
    return edgeHeaders(this.#profile, edge.tags, edge.expiresAt - now, edge.ownCacheControl)
  }

  /**
   * Purges `tags` now and again after `maxSilence`. Resolves when the first purge settled if
   * `awaitPurge`, else at once; never rejects.
   */
  purge(tags: readonly string[], report = this.#report): Promise<void> {
    const purger = this.#o.purger
    if (purger === undefined || tags.length === 0) return Promise.resolve()
    const list = [...tags]
    const once = (): Promise<void> =>
      purger.purge(list).then(undefined, (error: unknown) => report(error))
    const first = once()
    setTimeout(() => void once(), this.#o.maxSilenceMs).unref()
    return this.#o.awaitPurge ? first : Promise.resolve()
  }
}
