import CachePolicy from 'http-cache-semantics'

import type { Clock } from '../index.js'
import { directives, headerText } from './headers.js'

/**
 * What a response's own headers allow a shared cache (RFC 9111), judged by `http-cache-semantics`
 * — the shared-cache policy of `got` and `make-fetch-happen` — rather than by rules of our own:
 *
 * - `refused`: it may not be stored (§3): a status the policy does not understand, `no-store`
 *   (§5.2.2.5), `private` (§5.2.2.7); or `no-cache` (§5.2.2.4), which allows storing only with
 *   revalidation on every reuse — and this cache does not revalidate.
 * - `expired`: its explicit freshness lifetime (§4.2.1: `s-maxage`, else `max-age`, else
 *   `Expires` minus `Date`) is already used up by its current age (§4.2.3: its `Age` header
 *   included) — `max-age=0`, `s-maxage=0`, an `Expires` in the past or malformed (§5.3).
 * - `ttlMs`: how long it stays fresh (explicit lifetime minus current age); `undefined` when it
 *   states none: the route's `ttl` is then the heuristic freshness this cache assigns (§4.2.2).
 *
 * The stored entry lives for the shorter of the route's `ttl` and `ttlMs`: a response is never
 * served past the lifetime it declared (§4.2: only fresh responses are reused without
 * revalidation; HTTP reads use no grace), and never kept longer than the route allows.
 */
export type Freshness = 'refused' | 'expired' | { readonly ttlMs: number | undefined }

/** Judges responses by `clock` (the time `Expires` and `Date` are compared with). */
export function freshnessJudge(
  clock: Clock,
): (status: number, headers: Readonly<Record<string, string | readonly string[]>>) => Freshness {
  // The policy reads the time through `now()`, which it documents as the method to override.
  class Policy extends CachePolicy {
    now(): number {
      return clock.now()
    }
  }
  return (status, headers) => {
    const flat: Record<string, string> = {}
    for (const [name, value] of Object.entries(headers)) {
      const text = headerText(value)
      if (text !== undefined) flat[name] = text
    }
    // Directive names are case-insensitive (RFC 9111 §5.2); the policy compares them as written.
    if (flat['cache-control'] !== undefined) {
      flat['cache-control'] = flat['cache-control'].toLowerCase()
    }
    // The request side (Authorization, its own directives) is decided before the handler runs.
    const policy = new Policy(
      { method: 'GET', headers: {} },
      { status, headers: flat },
      {
        shared: true,
      },
    )
    const cc = directives(flat['cache-control'])
    if (!policy.storable() || cc.has('no-cache')) return 'refused'
    const explicit = cc.has('s-maxage') || cc.has('max-age') || flat['expires'] !== undefined
    if (!explicit) return NO_LIFETIME
    const ttlMs = Math.floor((policy.maxAge() - policy.age()) * 1000)
    return ttlMs > 0 ? { ttlMs } : 'expired'
  }
}

const NO_LIFETIME: Freshness = { ttlMs: undefined }
