import { isAscii } from 'node:buffer'

import { type EntitySpec, resultEntityTags } from '../index.js'
import {
  byteLength,
  headerText,
  isJson,
  noneMatch,
  normalizeHeaders,
  notModifiedHeaders,
  storableHeaders,
  strongEtag,
  varyNames,
} from './headers.js'
import { internHeaders } from './intern.js'
import type { ResolvedHttpOptions } from './options.js'
import { bodyEntityType, type PathShape } from './tags.js'
import type { CapturedResponse, HttpExchange, ReplayResponse, StoredResponse } from './types.js'

/** Why a response was not stored (`X-Cache: SKIP`; see `docs/http.md`). */
export type SkipReason =
  | 'authorization'
  | 'request-cookie'
  | 'host'
  | 'url'
  | 'vary-value'
  | 'error'
  | 'status'
  | 'cookie'
  | 'cache-control'
  | 'expired'
  | 'stream'
  | 'size'
  | 'vary'

/** A response that may be stored, and how long it stays fresh by its own headers. */
export interface Storable {
  response: StoredResponse
  /** Its own remaining lifetime (`undefined`: it states none; the route's `ttl` applies). */
  ttlMs: number | undefined
}

/**
 * The stored form of `captured`, or why it may not be stored. `keyVary` lists the request
 * headers its key included: a response that varies on others cannot be stored under that key
 * (`'vary'`; the caller learns the new names).
 */
export function storedForm(
  o: ResolvedHttpOptions,
  captured: CapturedResponse,
  keyVary: readonly string[],
): Storable | { skip: SkipReason; vary?: readonly string[] } {
  if (captured.failed === true) return { skip: 'error' }
  if (!o.statuses.has(captured.status)) return { skip: 'status' }
  const headers = normalizeHeaders(captured.headers)
  // RFC 9111 §3 would allow it with `public`, but its cookie is one caller's: never shared.
  if (headers['set-cookie'] !== undefined) return { skip: 'cookie' }
  const freshness = o.freshness(captured.status, headers)
  if (freshness === 'refused') return { skip: 'cache-control' }
  if (freshness === 'expired') return { skip: 'expired' }
  const body = captured.body
  if (body === undefined) return { skip: 'stream' }
  if (byteLength(body) > o.maxResponseBytes) return { skip: 'size' }
  const vary = varyNames(headerText(headers['vary']))
  if (vary.includes('*')) return { skip: 'vary' }
  if (!vary.every((name) => keyVary.includes(name))) return { skip: 'vary', vary }
  const kept = internHeaders(storableHeaders(headers, o.dropHeaders))
  const own = headerText(headers['etag'])
  const storedAt = o.clock.now()
  const stored = keptBody(body, kept['content-type'] !== undefined)
  // Without the app's own ETag none is kept: a hash is as cheap to recompute as to hold.
  const response: StoredResponse =
    own === undefined
      ? { kind: 'response', status: captured.status, headers: kept, body: stored, storedAt }
      : {
          kind: 'response',
          status: captured.status,
          headers: kept,
          body: stored,
          etag: own,
          storedAt,
        }
  return { response, ttlMs: freshness.ttlMs }
}

/** The `ETag` of a stored response: the app's own, else a strong hash of its body. */
export const etagOf = (stored: StoredResponse): string => stored.etag ?? strongEtag(stored.body)

/**
 * The body as it is kept. Bytes that are all ASCII become text when the response names its
 * `Content-Type` (a framework's `Buffer.from(text)`, Express's `res.send` of a body over 1,000
 * characters): the same bytes on the wire and in its hash, held as one string instead of a
 * `Buffer`, its `ArrayBuffer` and a backing store outside the heap (~170 bytes more per response).
 * (Without a `Content-Type` they stay bytes: a framework sends text and bytes with different
 * default types.) Other bytes that are a view into a larger buffer — Node's 8 KB allocation pool
 * — are copied to bytes of their own, or every cached response would keep a whole pool chunk
 * alive: 3 to 8 times its size.
 */
function keptBody(body: string | Uint8Array, typed: boolean): string | Uint8Array {
  if (typeof body === 'string') return body
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  if (typed && isAscii(bytes)) return bytes.toString('latin1')
  if (body.byteLength === body.buffer.byteLength) return body
  const copy = Buffer.allocUnsafeSlow(body.byteLength)
  copy.set(body)
  return copy
}

/**
 * What a hit of one stored response sends while its `Age` stays the same second: built once and
 * handed to every such hit (adapters only read it), so a hot hit allocates nothing here.
 */
interface Prepared {
  readonly age: number
  readonly etag: string
  readonly full: ReplayResponse
  /** The 304 (built on the first conditional hit). */
  notModified: ReplayResponse | undefined
}

/** Keyed by the stored response itself: dropped with it, never serialized with it. */
const prepared = new WeakMap<StoredResponse, Prepared>()

/** What a hit sends: the stored response with `Age`, or a 304 when `If-None-Match` matches. */
export function replayOf(
  o: ResolvedHttpOptions,
  stored: StoredResponse,
  exchange: HttpExchange<unknown>,
): ReplayResponse {
  const age = Math.max(0, Math.floor((o.clock.now() - stored.storedAt) / 1000))
  let ready = prepared.get(stored)
  if (ready === undefined || ready.age !== age) {
    const etag = ready?.etag ?? etagOf(stored)
    const headers = { ...stored.headers, etag, 'x-cache': 'HIT', age: String(age) }
    ready = {
      age,
      etag,
      full: { status: stored.status, headers, body: stored.body },
      notModified: undefined,
    }
    prepared.set(stored, ready)
  }
  // RFC 9110 §13.2.1: preconditions apply only where the response would be 2xx.
  if (
    stored.status >= 200 &&
    stored.status <= 299 &&
    noneMatch(exchange.header('if-none-match'), ready.etag)
  ) {
    return (ready.notModified ??= notModified(stored, ready.etag, age))
  }
  return ready.full
}

function notModified(stored: StoredResponse, etag: string, age: number): ReplayResponse {
  const meta = { etag, 'x-cache': 'HIT', age: String(age) }
  return {
    status: 304,
    headers: { ...notModifiedHeaders(stored.headers), ...meta },
    body: undefined,
  }
}

/** The parsed JSON body of a response, if it is JSON within the size cap. */
export function jsonBody(
  o: ResolvedHttpOptions,
  headers: CapturedResponse['headers'],
  body: string | Uint8Array | undefined,
): unknown {
  if (body === undefined || byteLength(body) > o.maxResponseBytes) return undefined
  if (!isJson(headerText(normalizeHeaders(headers)['content-type']))) return undefined
  try {
    return JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8'))
  } catch {
    return undefined
  }
}

/**
 * Entity tags of the ids in a JSON body: of the route's `entity`, else of the type of the
 * path's last collection segment (`/users` → `user`).
 */
export function bodyEntityTags(
  o: ResolvedHttpOptions,
  entity: EntitySpec | false | undefined,
  shape: PathShape,
  body: unknown,
): string[] {
  if (entity === false) return []
  const spec = entity ?? bodyEntityType(shape, o.entityTypes)
  return spec === undefined ? [] : resultEntityTags(body, spec)
}
