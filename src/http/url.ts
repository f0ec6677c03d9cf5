/**
 * Canonical forms of a request's path and query, the raw material of keys and tags.
 *
 * Every component is decoded, then re-encoded with {@link strictEncode}, whose output holds only
 * `A-Z a-z 0-9 - _ . ~` and `%XX`. So an encoded component can never contain a separator of the
 * key (`/`, `?`, `&`, `=`, space) or a tag (`*`): `/items/page=1` and `/items?page=1` cannot
 * meet, and a client cannot forge a separator by sending it percent-encoded.
 */

// Characters `encodeURIComponent` leaves alone although RFC 3986 reserves them (`*` would clash
// with the subtree tags' `/*`).
const SUB_DELIMS = /[!'()*]/g
// A path made only of unreserved characters and slashes is already canonical: the hot path.
const PLAIN_PATH = /^\/[A-Za-z0-9\-._~/]*$/
const PLAIN_QUERY = /^[A-Za-z0-9\-._~=&]*$/

/** `encodeURIComponent`, plus `! ' ( ) *` (RFC 3986 §2.2): the output is `[A-Za-z0-9-_.~]` and `%XX`. */
export function strictEncode(text: string): string {
  return encodeURIComponent(text).replace(
    SUB_DELIMS,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  )
}

function decode(text: string): string | undefined {
  if (!text.includes('%')) return text
  try {
    return decodeURIComponent(text)
  } catch {
    return undefined
  }
}

/**
 * The canonical path: each `/`-separated segment decoded and strictly re-encoded, so `/a%41` and
 * `/aA` agree while `/a%2Fb` (one segment) stays apart from `/a/b` (two). Empty segments and a
 * trailing slash are kept: frameworks route them apart. `undefined` when the path is not an
 * origin-form path or has a malformed escape (such a request is not cached).
 */
export function canonicalPath(raw: string): string | undefined {
  if (PLAIN_PATH.test(raw)) return raw
  if (!raw.startsWith('/')) return undefined
  const segments = raw.slice(1).split('/')
  for (let i = 0; i < segments.length; i++) {
    const decoded = decode(segments[i] as string)
    if (decoded === undefined) return undefined
    segments[i] = strictEncode(decoded)
  }
  return `/${segments.join('/')}`
}

/**
 * The canonical query: parameters decoded as `application/x-www-form-urlencoded` (`+` is a
 * space), strictly re-encoded and sorted by name — stably, so repeated parameters keep their
 * order (`?b=2&a=1&b=1` → `a=1&b=2&b=1`). `?a` and `?a=` are the same (frameworks parse both to
 * `''`); empty pairs are dropped. `undefined` when an escape is malformed.
 */
export function canonicalQuery(raw: string): string | undefined {
  if (raw === '') return ''
  const pairs: [string, string][] = []
  const plain = PLAIN_QUERY.test(raw)
  for (const part of raw.split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    const rawName = eq === -1 ? part : part.slice(0, eq)
    const rawValue = eq === -1 ? '' : part.slice(eq + 1)
    if (plain) {
      if (rawValue.includes('=')) {
        // `a=b=c`: the value holds an `=`, which must be encoded to stay unambiguous.
        pairs.push([rawName, strictEncode(rawValue)])
      } else pairs.push([rawName, rawValue])
      continue
    }
    const name = decode(rawName.replaceAll('+', ' '))
    const value = decode(rawValue.replaceAll('+', ' '))
    if (name === undefined || value === undefined) return undefined
    pairs.push([strictEncode(name), strictEncode(value)])
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  return pairs.map(([name, value]) => `${name}=${value}`).join('&')
}

/** Splits a raw request target (`/a/b?x=1`) into its path and query (without `?`). */
export function splitUrl(url: string): { path: string; query: string } {
  const q = url.indexOf('?')
  if (q === -1) return { path: url, query: '' }
  // A fragment never reaches a server, but a raw target may still carry one: it is not the query.
  const hash = url.indexOf('#', q)
  return { path: url.slice(0, q), query: url.slice(q + 1, hash === -1 ? undefined : hash) }
}

/** The non-empty segments of a canonical path (still encoded). */
export function segmentsOf(path: string): string[] {
  return path.split('/').filter((segment) => segment !== '')
}

/** A segment of a canonical path, decoded (canonical segments always decode). */
export function decodeSegment(segment: string): string {
  return decode(segment) ?? segment
}
