import { CacheError } from '../errors.js'
import type { StoredRecord } from '../stores/store.js'
import type { Serializer } from './serializer.js'

/** Engine metadata kept with a value in a shared tier. */
export interface EntryTimes {
  createdAt: number
  expiresAt: number
  staleUntil: number
}

/** A shared-tier entry after decoding. */
export interface DecodedEntry extends EntryTimes {
  value: unknown
  tags: readonly string[]
  start: number
  tagStarts: readonly number[] | undefined
  size: number
}

/**
 * Payload layout: `createdAt,expiresAt,staleUntil\n` then the serialized value. The header is
 * parsed without JSON so the read path pays only for the value itself.
 */
export function encodeEntry(serializer: Serializer, value: unknown, times: EntryTimes): string {
  let body: string
  try {
    body = serializer.serialize(value)
  } catch (error) {
    throw new CacheError(
      'E_SERIALIZE',
      `cachegraph: value cannot be serialized: ${String(error)}`,
      {
        cause: error,
      },
    )
  }
  return `${times.createdAt},${times.expiresAt},${times.staleUntil}\n${body}`
}

export function decodeEntry(serializer: Serializer, record: StoredRecord): DecodedEntry {
  const { payload } = record
  const newline = payload.indexOf('\n')
  const [createdAt, expiresAt, staleUntil] = payload.slice(0, newline).split(',').map(Number)
  let value: unknown
  try {
    value = serializer.deserialize(payload.slice(newline + 1))
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
    createdAt: createdAt ?? 0,
    expiresAt: expiresAt ?? 0,
    staleUntil: staleUntil ?? 0,
    size: payload.length,
  }
}
