import { CacheError } from '../../errors.js'
import type { StoredRecord } from '../../stores/store.js'
import { Validity } from '../model/tag-registry.js'
import { richJson, type Serializer } from '../serializer.js'
import { numberAt } from '../../util/digits.js'

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
  /** What the tag records said of it as it was read (`TagRegistry.checkRead`). */
  validity: Validity
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
 * read (for `inspect`), its value is not deserialized (`undefined`). `validity`: the judgement of
 * its tags, kept with it.
 */
export function decodeEntry(
  serializer: Serializer,
  record: StoredRecord,
  withValue = true,
  validity: Validity = Validity.Valid,
): DecodedEntry {
  const { payload } = record
  // Read field by field, numbers without slicing: this runs on every shared-tier hit.
  const a = payload.indexOf(',')
  const b = payload.indexOf(',', a + 1)
  const c = payload.indexOf(',', b + 1)
  const d = payload.indexOf(',', c + 1)
  const newline = payload.indexOf('\n', d + 1)
  if (a < 0 || b < 0 || c < 0 || d < 0 || newline < 0) {
    throw new CacheError('E_DESERIALIZE', 'cachegraph: stored entry has no valid header')
  }
  let value: unknown
  const failure = payload.charCodeAt(c + 1) === 101 /* e */
  try {
    if (withValue) {
      value = failure
        ? new CachedFailure(rebuildError(payload.slice(newline + 1)))
        : deserializeFrom(serializer, payload, newline + 1)
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
    createdAt: numberAt(payload, 0, a),
    expiresAt: numberAt(payload, a + 1, b),
    staleUntil: numberAt(payload, b + 1, c),
    version: newline === d + 1 ? undefined : payload.slice(d + 1, newline),
    size: payload.length,
    failure,
    validity,
  }
}

/**
 * The value serialized in `payload` from `from`. The default serializer's plain JSON (`j` then
 * the JSON) is parsed in place, without the body's own slice first.
 */
function deserializeFrom(serializer: Serializer, payload: string, from: number): unknown {
  if (serializer === richJson && payload.charCodeAt(from) === 106 /* j */) {
    return JSON.parse(payload.slice(from + 1)) as unknown
  }
  return serializer.deserialize(payload.slice(from))
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
