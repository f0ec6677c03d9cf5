import { toMs } from '../../util/duration.js'
import { invalidOption } from '../../errors.js'
import type { Duration } from '../../index.js'
import type { Purger } from './purger.js'
import { CDN_VENDORS, type CdnVendor } from './vendors.js'

/**
 * The `cdn` option of the HTTP core and every adapter: a vendor name, or the vendor with a
 * purger. See docs/cdn.md.
 * @example cdn: 'fastly'
 * @example cdn: { vendor: 'fastly', purger: fastlyPurger({ serviceId, apiToken }) }
 */
export type CdnOption = CdnVendor | CdnOptions

export interface CdnOptions {
  /** The CDN in front of the app: decides the tag header, its limits and the control header. */
  vendor: CdnVendor
  /**
   * Purges the edge when a write through this HTTP cache invalidates (and on `http.purge()`).
   * Without one, responses are tagged but nothing is purged from this process.
   */
  purger?: Purger
  /**
   * Delay of the second purge of each invalidation: long enough for every process to have
   * heard it, so the edge cannot refill from an L1 that had not.
   * @default the cache's bus `maxSilence`, else '1s'
   */
  maxSilence?: Duration
  /**
   * A write's response waits for the first purge attempt (its retries included) before it is
   * sent, so a read after the write never finds the old object at the edge. Failures are still
   * only reported. @default false
   */
  awaitPurge?: boolean
}

export interface ResolvedCdn {
  vendor: CdnVendor
  purger: Purger | undefined
  maxSilenceMs: number
  awaitPurge: boolean
}

export function resolveCdn(option: CdnOption, busSilenceMs: number | undefined): ResolvedCdn {
  const o = typeof option === 'string' ? { vendor: option } : option
  if (typeof o !== 'object' || o === null || !CDN_VENDORS.includes(o.vendor)) {
    throw invalidOption('cdn', `must be one of ${CDN_VENDORS.join(', ')}, or { vendor, purger? }`)
  }
  const { purger } = o
  if (purger !== undefined) {
    if (typeof purger?.purge !== 'function') {
      throw invalidOption('cdn.purger', 'must have a purge(tags) method')
    }
    if (purger.vendor !== undefined && purger.vendor !== o.vendor) {
      throw invalidOption('cdn.purger', `purges ${purger.vendor}, not ${o.vendor}`)
    }
  }
  const maxSilenceMs =
    o.maxSilence === undefined ? (busSilenceMs ?? 1_000) : toMs(o.maxSilence, 'cdn.maxSilence')
  if (o.awaitPurge !== undefined && typeof o.awaitPurge !== 'boolean') {
    throw invalidOption('cdn.awaitPurge', 'must be a boolean')
  }
  return { vendor: o.vendor, purger, maxSilenceMs, awaitPurge: o.awaitPurge ?? false }
}
