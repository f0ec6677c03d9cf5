import { collectionTag, entityTag } from '../cache/tags.js'
import { invalidOption } from '../errors.js'

/** Which entities of a result to tag: `cache.wrap(fn, { entity: { type: 'user' } })`. */
export interface EntityOptions {
  /** The entity type: tags are `entityTag(type, id)`. */
  type: string
  /** The field holding the id. @default 'id' */
  idField?: string
  /** How many containers deep the walk goes (a safety net). @default 8 */
  maxDepth?: number
  /** Most entities tagged per result (a safety net). @default 10_000 */
  maxEntities?: number
}

/** An entity type (`'user'`) or {@link EntityOptions}. */
export type EntitySpec = string | EntityOptions

/**
 * The tags `entityTag(type, id)` of the entities of one type found in `result`, deduplicated,
 * in first-seen order (depth first, in the order of keys and elements).
 *
 * - An object whose `idField` holds an id (a non-empty string, a finite number or a bigint) IS
 *   an entity: its tag is added and the walk does not descend into it, since its nested objects
 *   may be of other types (`user.org = { id: 5 }` is not `user:5`). Ids `42` and `'42'` are the
 *   same entity.
 * - Any other array, Map, Set or plain object is a container: the walk visits the elements of
 *   arrays and Sets, the values of Maps (not their keys) and of plain objects. That covers single
 *   objects, lists, nested lists, `{ items: [...] }`, `{ data: [...] }` and
 *   `{ results: [...], next }` pages and `{ user: {...} }` wrappers.
 * - Primitives, Dates, typed arrays and class instances without an id are ignored.
 *
 * `maxDepth` counts the containers entered (0: only `result` itself is looked at) and
 * `maxEntities` caps the tags returned. They are a safety net against huge or deep results, not
 * a way to select entities: on reaching one the walk stops quietly and returns what it found.
 * Cycles are walked once.
 *
 * @throws CacheError `E_INVALID_OPTION` if `spec` is invalid (an empty type, a non-string
 * `idField`, a bound that is not a non-negative integer).
 */
export function entityTags(result: unknown, spec: EntitySpec): string[] {
  return walk(result, spec).tags
}

/**
 * {@link entityTags}, plus `collectionTag(type)` when the result lists entities: when the walk
 * entered an array, Set or Map — even an empty one, since a list with no rows yet must still
 * learn of the first insert. A single entity (or none) is no list: an insert cannot change it.
 */
export function resultEntityTags(result: unknown, spec: EntitySpec): string[] {
  const { tags, listed, type } = walk(result, spec)
  return listed ? [...tags, collectionTag(type)] : tags
}

function walk(
  result: unknown,
  spec: EntitySpec,
): { tags: string[]; listed: boolean; type: string } {
  const { type, idField, maxDepth, maxEntities } = checkSpec(spec)
  const tags = new Set<string>()
  let listed = false
  // Object → shallowest depth it was entered at: a container cut short by `maxDepth` is walked
  // again if it shows up higher in the result.
  const entered = new Map<object, number>()

  const visit = (value: unknown, depth: number): void => {
    if (typeof value !== 'object' || value === null || tags.size >= maxEntities) return
    if (value instanceof Date || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return
    const isList = Array.isArray(value) || value instanceof Map || value instanceof Set
    if (!isList) {
      const id = (value as Record<string, unknown>)[idField]
      if (isId(id)) {
        tags.add(entityTag(type, id))
        return
      }
      if (!isPlainObject(value)) return
    }
    if (isList) listed = true
    if (depth >= maxDepth) return
    const seenAt = entered.get(value)
    if (seenAt !== undefined && seenAt <= depth) return
    entered.set(value, depth)
    const children: Iterable<unknown> =
      value instanceof Map || value instanceof Set
        ? value.values()
        : Array.isArray(value)
          ? value
          : Object.values(value)
    for (const child of children) {
      if (tags.size >= maxEntities) return
      visit(child, depth + 1)
    }
  }

  visit(result, 0)
  return { tags: [...tags], listed, type }
}

function isId(id: unknown): id is string | number | bigint {
  switch (typeof id) {
    case 'string':
      return id.length > 0
    case 'number':
      return Number.isFinite(id)
    case 'bigint':
      return true
    default:
      return false
  }
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

interface CheckedSpec {
  type: string
  idField: string
  maxDepth: number
  maxEntities: number
}

function checkSpec(spec: EntitySpec): CheckedSpec {
  // A bare type is the common case: no object to read, nothing else to check.
  if (typeof spec === 'string') {
    if (spec.length === 0) throw invalidOption('entity', 'must be a non-empty entity type')
    return { type: spec, idField: 'id', maxDepth: 8, maxEntities: 10_000 }
  }
  if (typeof spec !== 'object' || spec === null) {
    throw invalidOption('entity', 'must be an entity type or { type, idField? }')
  }
  const { type, idField = 'id', maxDepth = 8, maxEntities = 10_000 } = spec
  if (typeof type !== 'string' || type.length === 0) {
    throw invalidOption('entity', 'needs a `type`: a non-empty string')
  }
  if (typeof idField !== 'string' || idField.length === 0) {
    throw invalidOption('entity', '`idField` must be a non-empty string')
  }
  for (const [bound, value] of [
    ['maxDepth', maxDepth],
    ['maxEntities', maxEntities],
  ] as const) {
    if (!isBound(value)) {
      throw invalidOption('entity', `\`${bound}\` must be an integer >= 0 or Infinity`)
    }
  }
  return { type, idField, maxDepth, maxEntities }
}

function isBound(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && (Number.isInteger(value) || value === Infinity)
}
