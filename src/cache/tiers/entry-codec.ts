import { CacheError } from '../../errors.js'
import type { StoredRecord } from '../../stores/store.js'
import type { Serializer } from '../serializer.js'

/** Engine metadata kept with a value in every tier. */
export interface EntryMeta {
  createdAt: number
  expiresAt: number
  /** End of the grace period (`expiresAt` when there is none). */
  staleUntil: number
  /** `version` of the read-through call that wrote it (entries of other versions are ignored). */
  version: string | undefined
}

/** A loader failure kept by `cacheErrors`: hits rethrow it. */
export class CachedFailure {
  constructor(readonly error: unknown) {}
}

/** A shared-tier entry after decoding. */
export interface DecodedEntry extends EntryMeta {
  value: unknown
  tags: readonly string[]
  start: number
  tagStarts: readonly number[] | undefined
  size: number
  /** The value is a `CachedFailure`. */
  failure: boolean
}

/**
 * Payload layout: `createdAt,expiresAt,staleUntil,kind,version\n` then the body, where kind is
 * `v` (a serialized value) or `e` (a cached failure as JSON). The header is parsed without JSON so
 * the read path pays only for the value itself. The version comes last: it may contain commas.
 */
export function encodeEntry(serializer: Serializer, value: unknown, meta: EntryMeta): string {
  const failure = value instanceof CachedFailure
  let body: string
  try {
    body = failure ? JSON.stringify(describeError(value.error)) : serializer.serialize(value)
  } catch (error) {
    throw new CacheError(
      'E_SERIALIZE',
      `cachegraph: value cannot be serialized: ${String(error)}`,
      {
        cause: error,
      },
    )
  }
  const kind = failure ? 'e' : 'v'
  return `${meta.createdAt},${meta.expiresAt},${meta.staleUntil},${kind},${meta.version ?? ''}\n${body}`
}

/**
 * `withValue`: false for an entry already judged invalid, which is never served: its metadata is
 * read (for `inspect`), its value is not deserialized (`undefined`).
 */
export function decodeEntry(
  serializer: Serializer,
  record: StoredRecord,
  withValue = true,
): DecodedEntry {
  const { payload } = record
  // Read field by field: this runs on every shared-tier hit.
  const a = payload.indexOf(',')
  const b = payload.indexOf(',', a + 1)
  const c = payload.indexOf(',', b + 1)
  const d = payload.indexOf(',', c + 1)
  const newline = payload.indexOf('\n', d + 1)
  if (a < 0 || b < 0 || c < 0 || d < 0 || newline < 0) {
    throw new CacheError('E_DESERIALIZE', 'cachegraph: stored entry has no valid header')
  }
  const body = payload.slice(newline + 1)
  let value: unknown
  const failure = payload.charCodeAt(c + 1) === 101 /* e */
  try {
    if (withValue) {
      value = failure ? new CachedFailure(rebuildError(body)) : serializer.deserialize(body)
    }
  } catch (error) {
    throw new CacheError('E_DESERIALIZE', 'cachegraph: stored value cannot be read back', {
      cause: error,
    })
  }
  return {
    value,
    tags: record.tags,
    start: record.start,
    tagStarts: record.tagStarts,
    createdAt: Number(payload.slice(0, a)),
    expiresAt: Number(payload.slice(a + 1, b)),
    staleUntil: Number(payload.slice(b + 1, c)),
    version: newline === d + 1 ? undefined : payload.slice(d + 1, newline),
    size: payload.length,
    failure,
  }
}

/** A failure as plain data: name, message, code. Never a class named by cached data. */
function describeError(error: unknown): { name: string; message: string; code?: unknown } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return { name: error.name, message: error.message, ...(code === undefined ? {} : { code }) }
  }
  return { name: 'Error', message: String(error) }
}

function rebuildError(body: string): Error {
  const data = JSON.parse(body) as { name?: unknown; message?: unknown; code?: unknown }
  const error = new Error(typeof data.message === 'string' ? data.message : '')
  error.name = typeof data.name === 'string' ? data.name : 'Error'
  if (data.code !== undefined) (error as Error & { code: unknown }).code = data.code
  return error
}
