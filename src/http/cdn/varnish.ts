import { invalidOption } from '../../errors.js'
import { purgeTags } from './encode.js'
import type { Purger } from './purger.js'
import { type PurgeRetryOptions, resolveRetry, sendWithRetry } from './retry.js'
import { VENDORS } from './vendors.js'

export interface VarnishPurgerOptions {
  /** Where Varnish listens for purges (`http://varnish:6081/`); its VCL must handle `PURGE`. */
  url: string
  /**
   * `xkey-softpurge` (objects become stale, kept for grace) instead of `xkey-purge`.
   * @default false
   */
  soft?: boolean
  /** More request headers (a shared secret the VCL checks, say). */
  headers?: Record<string, string>
  retry?: PurgeRetryOptions
}

/** Longest `xkey-purge` header sent: Varnish's default `http_req_hdr_len` is 8 KB. */
const MAX_HEADER_BYTES = 8_000

/**
 * Purges with the varnish-modules `xkey` vmod: a `PURGE` request whose `xkey-purge` (or
 * `xkey-softpurge`) header lists the keys, space-separated, for a VCL that calls
 * `xkey.purge(req.http.xkey-purge)` (docs/cdn.md has one).
 *
 * @example varnishPurger({ url: 'http://127.0.0.1:6081/' })
 */
export function varnishPurger(options: VarnishPurgerOptions): Purger {
  if (typeof options?.url !== 'string' || !URL.canParse(options.url)) {
    throw invalidOption('url', 'must be the URL Varnish answers purges on')
  }
  const { url } = options
  const retry = resolveRetry(options.retry, 'retry')
  const header = options.soft === true ? 'xkey-softpurge' : 'xkey-purge'
  return {
    vendor: 'varnish',
    async purge(tags) {
      for (const keys of headerBatches(purgeTags(tags, VENDORS.varnish))) {
        const headers = { ...options.headers, [header]: keys }
        await sendWithRetry({ url, method: 'PURGE', headers, what: 'varnish purge' }, retry)
      }
    },
  }
}

/** Keys joined by spaces, in headers of at most {@link MAX_HEADER_BYTES}. */
function headerBatches(keys: readonly string[]): string[] {
  const out: string[] = []
  let current = ''
  for (const key of keys) {
    if (current !== '' && current.length + 1 + key.length > MAX_HEADER_BYTES) {
      out.push(current)
      current = ''
    }
    current = current === '' ? key : `${current} ${key}`
  }
  if (current !== '') out.push(current)
  return out
}
