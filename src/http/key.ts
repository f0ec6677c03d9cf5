import { createHash } from 'node:crypto'

import { strictEncode } from './url.js'

/**
 * Keys of HTTP responses:
 *
 * ```
 * [<keyPrefix>:]<METHOD> <path>[?<query>][ @<host>][ #h:<header>=<value>][ #f:<i>=<value>][ ~<header>[=<value>]]
 * GET /spaces/1/items?page=2&tag=a&tag=b @shop.example #h:accept-language=en #f:0=42 ~accept-encoding=gzip
 * ```
 *
 * The path and query are canonical (see `url.ts`); `@` is the request's host (absent only for a
 * request without one); `#h:` parts are `varyBy` headers, `#f:<i>` parts the value of the
 * `varyBy` function at index `i`, `~` parts the request headers the route's responses `Vary` on
 * (`~name` alone: the request did not send it). Every value is strictly percent-encoded, and
 * the host canonical (`hosts.ts`: letters, digits, `.-_:[]` only), so none holds a space, and
 * the space only ever separates parts: no request can make its key equal another's.
 */
export const MAX_KEY_LENGTH = 1024

/** The part of the request's host (canonical: see `hosts.ts`). */
export const hostPart = (host: string): string => `@${host}`

/** The part of a `varyBy` header. */
export const headerPart = (name: string, value: string): string =>
  `#h:${name}=${strictEncode(value)}`

/** The part of the `varyBy` function at `index`. */
export const functionPart = (index: number, value: string): string =>
  `#f:${index}=${strictEncode(value)}`

/** The part of a header the response varies on (`undefined`: absent from the request). */
export const varyPart = (name: string, value: string | undefined): string =>
  value === undefined ? `~${name}` : `~${name}=${strictEncode(normalizeList(value))}`

/** `gzip,  br` and `gzip, br` select the same variant (RFC 9111 §4.1 allows folding whitespace). */
function normalizeList(value: string): string {
  return value.includes(',')
    ? value
        .split(',')
        .map((v) => v.trim())
        .join(',')
    : value.trim()
}

/**
 * The key of one request. Past {@link MAX_KEY_LENGTH} characters the key keeps a readable head
 * and ends with ` !sha256=<hash of the whole key>` — a part no unshortened key can have.
 */
export function buildKey(
  prefix: string,
  method: string,
  path: string,
  query: string,
  parts: readonly string[],
): string {
  let key = `${prefix}${method} ${path}`
  if (query !== '') key += `?${query}`
  for (const part of parts) key += ` ${part}`
  if (key.length <= MAX_KEY_LENGTH) return key
  const hash = createHash('sha256').update(key).digest('base64url')
  return `${key.slice(0, 200)} !sha256=${hash}`
}
