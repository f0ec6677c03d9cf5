import { CacheError, invalidOption } from '../../errors.js'
import { purgeTags } from './encode.js'
import type { Purger } from './purger.js'
import { batches, type PurgeRetryOptions, resolveRetry, sendWithRetry } from './retry.js'
import { VENDORS } from './vendors.js'

export interface CloudflarePurgerOptions {
  /** The zone whose cache is purged. */
  zoneId: string
  /** An API token with the `Cache Purge` permission (sent as `Authorization: Bearer`). */
  apiToken: string
  /** @default 'https://api.cloudflare.com/client/v4' */
  baseUrl?: string
  /**
   * Tags per request. Cloudflare allows 100 purge operations per request on every plan (it was
   * 30 before 2025); lower it if your account says otherwise. @default 100
   */
  batchSize?: number
  retry?: PurgeRetryOptions
}

/**
 * Purges by cache tag: `POST /zones/{zoneId}/purge_cache` with `{ "tags": [...] }`.
 *
 * @example cloudflarePurger({ zoneId, apiToken: process.env.CF_TOKEN })
 */
export function cloudflarePurger(options: CloudflarePurgerOptions): Purger {
  const { zoneId, apiToken } = options
  if (typeof zoneId !== 'string' || zoneId === '') throw invalidOption('zoneId', 'is required')
  if (typeof apiToken !== 'string' || apiToken === '')
    throw invalidOption('apiToken', 'is required')
  const batchSize = options.batchSize ?? 100
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw invalidOption('batchSize', 'must be an integer >= 1')
  }
  const base = (options.baseUrl ?? 'https://api.cloudflare.com/client/v4').replace(/\/+$/, '')
  const retry = resolveRetry(options.retry, 'retry')
  const url = `${base}/zones/${encodeURIComponent(zoneId)}/purge_cache`
  const headers = { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json' }
  return {
    vendor: 'cloudflare',
    async purge(tags) {
      for (const batch of batches(purgeTags(tags, VENDORS.cloudflare), batchSize)) {
        const body = JSON.stringify({ tags: batch })
        const text = await sendWithRetry(
          { url, method: 'POST', headers, body, what: 'cloudflare purge' },
          retry,
        )
        // The API answers `{ success, errors }`; a 2xx with `success: false` is a failure too.
        if (successOf(text) === false) {
          throw new CacheError('E_PURGE_FAILED', 'cachegraph: cloudflare purge failed', {
            cause: new Error(text.slice(0, 200)),
          })
        }
      }
    },
  }
}

function successOf(text: string): boolean | undefined {
  try {
    const parsed = JSON.parse(text) as { success?: unknown }
    return typeof parsed.success === 'boolean' ? parsed.success : undefined
  } catch {
    return undefined
  }
}
