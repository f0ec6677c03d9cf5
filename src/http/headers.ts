import { createHash } from 'node:crypto'

/** A header value as frameworks hand them out (`reply.getHeaders()`, `res.getHeaders()`). */
export type HeaderValue = string | number | readonly string[] | undefined

/** Headers of a stored response: lower-case names. */
export type StoredHeaders = Readonly<Record<string, string | readonly string[]>>

/**
 * Never stored, never replayed: hop-by-hop fields (RFC 9110 §7.6.1), fields that describe one
 * exchange rather than the representation (`date`, `age`, request ids, timings), `set-cookie`
 * (a response that sets one is not stored at all), and the ones recomputed on every replay
 * (`content-length`, `etag`, `x-cache`).
 */
const NEVER_REPLAYED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'date',
  'age',
  'set-cookie',
  'content-length',
  'etag',
  'x-cache',
  'x-request-id',
  'request-id',
  'x-response-time',
  'server-timing',
])

/**
 * Fields a 304 carries (RFC 9110 §15.4.5): those a 200 would have sent that guide caches, and
 * no representation metadata.
 */
const NOT_MODIFIED_FIELDS = ['cache-control', 'content-location', 'expires', 'vary']

/** Joins a header value into one line (`set-cookie` aside, lists fold with `, `). */
export function headerText(value: HeaderValue): string | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'number') return String(value)
  if (typeof value === 'string') return value
  return value.length === 0 ? undefined : value.join(', ')
}

/** Lower-cases the names of `headers`, dropping unset values. */
export function normalizeHeaders(
  headers: Readonly<Record<string, HeaderValue>>,
): Record<string, string | readonly string[]> {
  const out: Record<string, string | readonly string[]> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue
    out[name.toLowerCase()] = typeof value === 'number' ? String(value) : value
  }
  return out
}

/** The directive names of a `Cache-Control` value, lower-cased (`'max-age=60, private'` → both). */
export function directives(value: string | undefined): Set<string> {
  const names = new Set<string>()
  if (value === undefined) return names
  for (const part of value.split(',')) {
    const eq = part.indexOf('=')
    const name = (eq === -1 ? part : part.slice(0, eq)).trim().toLowerCase()
    if (name !== '') names.add(name)
  }
  return names
}

/** The field names a `Vary` header lists, lower-cased, sorted, deduplicated (`*` kept). */
export function varyNames(value: string | undefined): string[] {
  if (value === undefined) return []
  const names = new Set<string>()
  for (const part of value.split(',')) {
    const name = part.trim().toLowerCase()
    if (name !== '') names.add(name)
  }
  return [...names].sort()
}

/** The headers a replay carries: the stored ones minus those never replayed. */
export function storableHeaders(
  headers: Readonly<Record<string, string | readonly string[]>>,
  drop: ReadonlySet<string>,
): StoredHeaders {
  // `Connection: x-foo` makes `x-foo` hop-by-hop too (RFC 9110 §7.6.1).
  const connection = headerText(headers['connection'])
  const hopByHop = connection === undefined ? [] : varyNames(connection)
  const out: Record<string, string | readonly string[]> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (NEVER_REPLAYED.has(name) || drop.has(name) || hopByHop.includes(name)) continue
    out[name] = value
  }
  return out
}

/** A strong validator for `body` (RFC 9110 §8.8.3): a truncated SHA-256 of its bytes. */
export function strongEtag(body: string | Uint8Array): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
}

/**
 * Whether `If-None-Match` matches `etag`, by the weak comparison RFC 9110 §13.1.2 asks for:
 * `*`, or any listed tag equal to it once `W/` is ignored.
 */
export function noneMatch(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false
  const trimmed = ifNoneMatch.trim()
  if (trimmed === '*') return true
  const opaque = etag.startsWith('W/') ? etag.slice(2) : etag
  for (const candidate of trimmed.split(',')) {
    const tag = candidate.trim()
    if ((tag.startsWith('W/') ? tag.slice(2) : tag) === opaque) return true
  }
  return false
}

/** The fields of a 304 built from a stored response. */
export function notModifiedHeaders(
  headers: StoredHeaders,
): Record<string, string | readonly string[]> {
  const out: Record<string, string | readonly string[]> = {}
  for (const name of NOT_MODIFIED_FIELDS) {
    const value = headers[name]
    if (value !== undefined) out[name] = value
  }
  return out
}

/** Size in bytes of a body. */
export function byteLength(body: string | Uint8Array): number {
  return typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength
}

/** Whether a `Content-Type` names JSON (`application/json`, `application/problem+json`, ...). */
export function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false
  const media = (contentType.split(';')[0] as string).trim().toLowerCase()
  return media === 'application/json' || media.endsWith('+json')
}
