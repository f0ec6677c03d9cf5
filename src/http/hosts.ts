import { invalidOption } from '../errors.js'

/**
 * The host of a request as its key holds it: `Host` (RFC 9110 §7.2), or the host a trusted proxy
 * forwarded, lower-cased (host names are case-insensitive, RFC 3986 §3.2.2), without the
 * trailing dot of a fully qualified name, the port kept (`shop.example:8443` is another
 * origin, RFC 6454 §4). Only letters, digits, `.`, `-`, `_`, an IPv6 literal in brackets and a
 * port: a key part that can hold no space, `#`, `~` or `@`. `undefined`: malformed.
 */
export function canonicalHost(value: string): string | undefined {
  // Every request asks, and a server sees few hosts: the answers are remembered (`null`:
  // malformed), a bounded number of short ones, past which they start over.
  if (value.length > MAX_NAME_LENGTH) return canonicalOf(value)
  const known = canonical.get(value)
  if (known !== undefined) return known ?? undefined
  if (canonical.size >= MAX_REMEMBERED) canonical.clear()
  const host = canonicalOf(value)
  canonical.set(value, host ?? null)
  return host
}

const MAX_REMEMBERED = 256
/** A DNS name has at most 253 characters; with a port and brackets, a little more. */
const MAX_NAME_LENGTH = 300
const canonical = new Map<string, string | null>()

function canonicalOf(value: string): string | undefined {
  const match = HOST.exec(value.trim().toLowerCase())
  if (match === null) return undefined
  const name = (match[1] as string).replace(/\.$/, '')
  return name === '' ? undefined : name + (match[2] ?? '')
}

const HOST = /^([a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?|\[[0-9a-f:.]+\])(:\d{1,5})?$/

/** The host names of `entry` without its port (`[::1]:80` → `[::1]`). */
const nameOf = (host: string): string =>
  host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : (host.split(':')[0] as string)

/** Whether a canonical host may be cached: the `hosts` option, checked once. */
export type HostFilter = (host: string | undefined) => boolean

/**
 * The `hosts` allowlist: `shop.example` (any port), `shop.example:8443` (that port only),
 * `*.tenants.example` (any subdomain, not `tenants.example` itself). Without it every host may
 * be cached — each under its own keys — and requests without a host too.
 */
export function hostFilter(entries: unknown): HostFilter {
  if (entries === undefined) return () => true
  if (!Array.isArray(entries) || entries.length === 0) {
    throw invalidOption('hosts', "must be a non-empty list of hosts like 'shop.example'")
  }
  const exact = new Set<string>()
  const names = new Set<string>()
  const suffixes: string[] = []
  for (const entry of entries as unknown[]) {
    const wildcard = typeof entry === 'string' && entry.startsWith('*.')
    const host =
      typeof entry === 'string' ? canonicalHost(wildcard ? entry.slice(2) : entry) : undefined
    if (host === undefined || (wildcard && host !== nameOf(host))) {
      throw invalidOption('hosts', `entries must be hosts or '*.domain', got ${String(entry)}`)
    }
    if (wildcard) suffixes.push(`.${host}`)
    else if (host === nameOf(host)) names.add(host)
    else exact.add(host)
  }
  return (host) => {
    if (host === undefined) return false
    const name = nameOf(host)
    return exact.has(host) || names.has(name) || suffixes.some((s) => name.endsWith(s))
  }
}

/**
 * Every host a request's forwarding headers name: each entry of `X-Forwarded-Host`, and each
 * `host=` of `Forwarded` (RFC 7239 §5.3). A request whose key holds another host was not sent
 * by a proxy the framework trusts: its handler may still read these (and build links from
 * them), so its response must not be stored, nor an entry served in its place.
 */
export function forwardedHosts(header: (name: string) => string | undefined): string[] {
  const hosts: string[] = []
  const xfh = header('x-forwarded-host')
  if (xfh !== undefined) {
    for (const entry of xfh.split(',')) if (entry.trim() !== '') hosts.push(entry.trim())
  }
  const forwarded = header('forwarded')
  if (forwarded !== undefined) {
    for (const match of forwarded.matchAll(/(?:^|[;,\s])host\s*=\s*(?:"([^"]*)"|([^;,\s]*))/gi)) {
      hosts.push(match[1] ?? match[2] ?? '')
    }
  }
  return hosts
}
