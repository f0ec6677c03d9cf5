import { invalidOption } from '../../errors.js'
import { purgeTags } from './encode.js'
import type { Purger } from './purger.js'
import { batches, type PurgeRetryOptions, resolveRetry, sendWithRetry } from './retry.js'
import { VENDORS } from './vendors.js'

/** Fastly's limit of surrogate keys in one purge request. */
export const FASTLY_MAX_KEYS_PER_REQUEST = 256

export interface FastlyPurgerOptions {
  /** The service whose cache is purged. */
  serviceId: string
  /** An API token with `purge_select` scope (sent as `Fastly-Key`). */
  apiToken: string
  /** @default 'https://api.fastly.com' */
  baseUrl?: string
  /**
   * Soft purge (`Fastly-Soft-Purge: 1`): objects are marked stale rather than removed, so the
   * edge may still serve them while revalidating (`stale-while-revalidate`) or when the origin is
   * down (`stale-if-error`). @default true
   */
  soft?: boolean
  retry?: PurgeRetryOptions
}

/**
 * Purges by surrogate key: `POST /service/{serviceId}/purge` with
 * `{ "surrogate_keys": [...] }`, at most 256 keys per request.
 *
 * @example fastlyPurger({ serviceId: 'SU1Z0isxPaozGVKXdv0eY', apiToken: process.env.FASTLY_TOKEN })
 */
export function fastlyPurger(options: FastlyPurgerOptions): Purger {
  const { serviceId, apiToken } = options
  if (typeof serviceId !== 'string' || serviceId === '') {
    throw invalidOption('serviceId', 'is required')
  }
  if (typeof apiToken !== 'string' || apiToken === '')
    throw invalidOption('apiToken', 'is required')
  const base = (options.baseUrl ?? 'https://api.fastly.com').replace(/\/+$/, '')
  const retry = resolveRetry(options.retry, 'retry')
  const url = `${base}/service/${encodeURIComponent(serviceId)}/purge`
  const headers: Record<string, string> = {
    'fastly-key': apiToken,
    'content-type': 'application/json',
    accept: 'application/json',
  }
  if (options.soft ?? true) headers['fastly-soft-purge'] = '1'
  return {
    vendor: 'fastly',
    async purge(tags) {
      const keys = purgeTags(tags, VENDORS.fastly)
      for (const batch of batches(keys, FASTLY_MAX_KEYS_PER_REQUEST)) {
        const body = JSON.stringify({ surrogate_keys: batch })
        await sendWithRetry({ url, method: 'POST', headers, body, what: 'fastly purge' }, retry)
      }
    },
  }
}
