/** Checks shared by the HTTP core's options and each route's; each names the option it refuses. */

import { invalidOption } from '../errors.js'
import type { InvalidationMode } from './tags.js'

/** An HTTP header name (RFC 9110 §5.1 `token`), lower case. */
export const HEADER_TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/

export function checkBoolean(value: unknown, option: string): void {
  if (value !== undefined && typeof value !== 'boolean')
    throw invalidOption(option, 'must be a boolean')
}

export function checkMode(value: unknown, option: string): InvalidationMode {
  if (value !== 'precise' && value !== 'hierarchical' && value !== false) {
    throw invalidOption(option, "must be 'precise', 'hierarchical' or false")
  }
  return value
}

/** A tag users may give: a non-empty string not starting with `@` (reserved for implicit tags). */
export const isUserTag = (tag: unknown): tag is string =>
  typeof tag === 'string' && tag !== '' && !tag.startsWith('@')

export function checkTagsOption(value: unknown, option: string): void {
  if (value === undefined || typeof value === 'function') return
  if (!Array.isArray(value) || !value.every(isUserTag)) {
    throw invalidOption(
      option,
      'must be a list of tags (non-empty, not starting with @) or a function',
    )
  }
}
