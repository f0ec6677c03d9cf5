import { personalCookies } from './cookies.js'
import { canonicalHost, forwardedHosts } from './hosts.js'
import type { ResolvedHttpOptions } from './options.js'
import type { HttpRoute } from './route.js'
import type { SkipReason } from './response.js'
import type { HttpExchange } from './types.js'

/**
 * The request side of docs/http.md's "What is never shared": whether a request may be served
 * from and stored in the cache at all, and under which host. `host` is `undefined` for a
 * request without one (HTTP/1.0), which never shares an entry with a request that has one.
 */
export function shareableHost<R>(
  o: ResolvedHttpOptions,
  route: HttpRoute<R>,
  exchange: HttpExchange<R>,
): { host: string | undefined } | SkipReason {
  // RFC 9111 §3.5: a shared cache must not reuse responses to authenticated requests unless
  // the route says they are public, or names what they vary by. A session cookie
  // authenticates as much as `Authorization` does (RFC 6265 §8.6: cookies are ambient
  // credentials), so it counts too — unless `ignoredCookies` names it.
  if (!route.public && route.varyBy.length === 0) {
    if (exchange.header('authorization') !== undefined) return 'authorization'
    if (personalCookies(exchange.header('cookie'), o.ignoredCookie)) return 'request-cookie'
  }
  const given = exchange.host || exchange.header('host') || undefined
  const host = given === undefined ? undefined : canonicalHost(given)
  if (given !== undefined && host === undefined) return 'host'
  if (!o.hostAllowed(host)) return 'host'
  // A forwarding header naming another host reached a framework that did not trust it (or it
  // would be the host), and the handler may still build links from it: storing that response
  // would poison the entry for everyone, so such a request is never shared.
  for (const named of forwardedHosts((name) => exchange.header(name))) {
    if (canonicalHost(named) !== host) return 'host'
  }
  return { host }
}
