import { CacheError } from '../errors.js'
import { IMPLICIT } from './model/namespace.js'

/**
 * The tag of one entity: `entityTag('user', 42)` is `'user:42'`. Every layer (memoizer, HTTP,
 * service) builds entity tags with this one function, so they always agree. `42` and `'42'` are
 * the same entity.
 */
export function entityTag(type: string, id: string | number | bigint): string {
  if (typeof type !== 'string' || type.length === 0) {
    throw new CacheError(
      'E_INVALID_TAG',
      `cachegraph: entity type must be a non-empty string, got ${JSON.stringify(type)}`,
    )
  }
  if (!['string', 'number', 'bigint'].includes(typeof id) || String(id).length === 0) {
    throw new CacheError(
      'E_INVALID_TAG',
      `cachegraph: entity id must be a string or number, got ${String(id)}`,
    )
  }
  return `${type}:${String(id)}`
}

/**
 * The tag of every list of one entity type: `collectionTag('product')` is `'product[]'`. A
 * result that lists entities (`wrap` with `entity`, an HTTP body of ids) depends on it, so a
 * new row — which has no entity tag any cached result could hold yet — reaches the lists it
 * belongs in. The format has no `:`, so it never equals an `entityTag` of a type without one.
 */
export function collectionTag(type: string): string {
  if (typeof type !== 'string' || type.length === 0) {
    throw new CacheError(
      'E_INVALID_TAG',
      `cachegraph: entity type must be a non-empty string, got ${JSON.stringify(type)}`,
    )
  }
  return `${type}[]`
}

/** Normalizes `tags` (a tag or a list) and rejects what is not a user tag. */
export function checkTags(tags: unknown, what = 'tags'): string[] {
  const list = typeof tags === 'string' ? [tags] : tags
  if (!Array.isArray(list)) {
    throw new CacheError(
      'E_INVALID_TAG',
      `cachegraph: ${what} must be a string or a list of strings`,
    )
  }
  for (const tag of list) checkTag(tag)
  return list as string[]
}

export function checkTag(tag: unknown): asserts tag is string {
  if (typeof tag !== 'string' || tag.length === 0) {
    throw new CacheError(
      'E_INVALID_TAG',
      `cachegraph: a tag must be a non-empty string, got ${JSON.stringify(tag)}`,
    )
  }
  if (tag.startsWith(IMPLICIT)) {
    throw new CacheError(
      'E_INVALID_TAG',
      `cachegraph: tags starting with '${IMPLICIT}' are reserved (got '${tag}')`,
    )
  }
}

export function checkKey(key: unknown): asserts key is string {
  // A leading \0 is reserved: children's L1 keys start with one.
  if (typeof key !== 'string' || key.length === 0 || key.charCodeAt(0) === 0) {
    throw new CacheError(
      'E_INVALID_KEY',
      `cachegraph: a key must be a non-empty string, got ${JSON.stringify(key)}`,
    )
  }
}
