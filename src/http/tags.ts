import { entityTag } from '../index.js'
import { decodeSegment } from './url.js'

/**
 * The tag vocabulary of HTTP responses. For a canonical path `/spaces/1/items/9`:
 *
 * - `http:/spaces/1/items/9` — **exact**: every response of that path (any query, any variant);
 * - `http:/spaces/*`, `http:/spaces/1/*`, `http:/spaces/1/items/*`, `http:/spaces/1/items/9/*` —
 *   **subtree**: the response lies at or under that path;
 * - `item:9` — the **entity** the path names, made by `entityTag`.
 *
 * A write then invalidates a handful of tags, whatever the number of cached responses: the
 * subtree of what it wrote, the exact tags of its collection and parent, and entity tags. No
 * keys are scanned. Segments are canonical (strictly percent-encoded), so a path can never
 * contain `*` and an exact tag never reads as a subtree tag.
 */
export const TAG_PREFIX = 'http:'

// Tags are kept by every cached response: made with `join`, which yields one flat string, where
// a template literal leaves a tree of its pieces in memory for as long as the response is cached.

/** The exact tag of the path made of `segments` (`http:/` for the root). */
export const exactTag = (segments: readonly string[]): string =>
  segments.length === 0 ? `${TAG_PREFIX}/` : [TAG_PREFIX, ...segments].join('/')

/** The subtree tag of the path made of `segments`: that path and everything under it. */
export const subtreeTag = (segments: readonly string[]): string =>
  segments.length === 0 ? `${TAG_PREFIX}//*` : [TAG_PREFIX, ...segments, '*'].join('/')

/** Maps a collection segment to its entity type: a configured type, `false` for none, or unset. */
export type EntityTypes = Readonly<Record<string, string | false>>

/**
 * What is known about the segments of one path: which are ids (from the route pattern, else by
 * their look), and how collection segments map to entity types.
 */
export interface PathShape {
  /** Canonical (encoded) non-empty segments. */
  readonly segments: readonly string[]
  /** `ids[i]`: segment `i` is an id (a route parameter). */
  readonly ids: readonly boolean[]
}

const LOOKS_LIKE_ID = [
  /^\d+$/, // 42
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, // UUID
  /^[0-9a-f]{24}$/i, // MongoDB ObjectId
  /^[0-9A-HJKMNP-TV-Z]{26}$/i, // ULID
]

/**
 * Which segments are ids. With the route pattern (`/spaces/:spaceId/items/:id`) a segment is an
 * id when the pattern has a parameter there; without one (or when a wildcard makes the counts
 * differ) a segment is an id when it looks like one: digits, a UUID, an ObjectId or a ULID.
 */
export function shapeOf(segments: readonly string[], pattern: string | undefined): PathShape {
  const parts = pattern?.split('/').filter((part) => part !== '')
  if (parts !== undefined && parts.length === segments.length && !parts.includes('*')) {
    return { segments, ids: parts.map((part) => part.startsWith(':')) }
  }
  return {
    segments,
    ids: segments.map((segment) => {
      const decoded = decodeSegment(segment)
      return LOOKS_LIKE_ID.some((shape) => shape.test(decoded))
    }),
  }
}

const IRREGULAR: Readonly<Record<string, string>> = {
  people: 'person',
  children: 'child',
  men: 'man',
  women: 'woman',
  mice: 'mouse',
  geese: 'goose',
  feet: 'foot',
  teeth: 'tooth',
}

/**
 * A small English singulariser for collection names: irregular plurals, `-ies` → `-y`,
 * `-sses`/`-shes`/`-ches`/`-xes` → drop `es`, a final `s` dropped (not from `-ss`, `-us`, `-is`).
 * Anything it gets wrong is fixed with `entityTypes` (`{ statuses: 'status' }`).
 */
export function singularize(word: string): string {
  const lower = word.toLowerCase()
  const irregular = IRREGULAR[lower]
  if (irregular !== undefined) return irregular
  if (lower.length > 3 && lower.endsWith('ies')) return `${word.slice(0, -3)}y`
  if (/(?:ss|sh|ch|x)es$/.test(lower)) return word.slice(0, -2)
  if (lower.endsWith('s') && !/(?:ss|us|is)$/.test(lower) && lower.length > 1) {
    return word.slice(0, -1)
  }
  return word
}

/** The entity type of a collection segment (encoded), or `undefined` for none. */
export function entityTypeOf(segment: string, types: EntityTypes): string | undefined {
  const name = decodeSegment(segment)
  const configured = Object.hasOwn(types, name) ? types[name] : undefined
  if (configured === false) return undefined
  if (configured !== undefined) return configured
  return name === '' ? undefined : singularize(name)
}

/** The entity named by the path itself: `/spaces/1/items/9` → `item:9`. */
export function pathEntityTag(shape: PathShape, types: EntityTypes): string | undefined {
  const { segments, ids } = shape
  const n = segments.length
  if (n < 2 || ids[n - 1] !== true || ids[n - 2] === true) return undefined
  const type = entityTypeOf(segments[n - 2] as string, types)
  return type === undefined ? undefined : entityTag(type, decodeSegment(segments[n - 1] as string))
}

/**
 * The entity type of ids found in a body of this path: that of the last collection segment
 * (`/users` → `user`, `/spaces/1/items/9` → `item`).
 */
export function bodyEntityType(shape: PathShape, types: EntityTypes): string | undefined {
  for (let i = shape.segments.length - 1; i >= 0; i--) {
    if (shape.ids[i] !== true) return entityTypeOf(shape.segments[i] as string, types)
  }
  return undefined
}

/** Tags of a cached response of this path: its exact tag, every ancestor's subtree, its entity. */
export function responseTags(shape: PathShape, types: EntityTypes): string[] {
  const { segments } = shape
  const exact = exactTag(segments)
  const tags = [exact]
  for (let i = 1; i < segments.length; i++) tags.push(subtreeTag(segments.slice(0, i)))
  // Its own subtree tag is kept as its exact tag and `/*`, two strings held anyway: one small
  // string node per response instead of a copy of its path.
  if (segments.length > 0) tags.push(exact + '/*')
  const entity = pathEntityTag(shape, types)
  if (entity !== undefined) tags.push(entity)
  return tags
}

/** How a successful write invalidates: see {@link writeTags}. */
export type InvalidationMode = 'precise' | 'hierarchical' | false

/**
 * Tags a successful write to this path invalidates (entity tags of its body come on top).
 *
 * `'precise'` — `PATCH /spaces/1/items/9`: the resource and its subtree (`http:/spaces/1/items/9/*`),
 * its collection with any query (`http:/spaces/1/items`), the collection's parent
 * (`http:/spaces/1`) and the entity (`item:9`); never a sibling such as `/spaces/1/items/8`.
 * A write to a path that ends in a collection (`POST /spaces/1/items`) invalidates that
 * collection — a `POST` only its exact tag (a create leaves the existing members alone), other
 * methods its subtree — and its parent.
 *
 * `'hierarchical'` — the seed library's rule: the subtree of every ancestor, from the first
 * segment down (`/spaces/*`, `/spaces/1/*`, `/spaces/1/items/*`, `/spaces/1/items/9/*`).
 */
export function writeTags(
  mode: InvalidationMode,
  method: string,
  shape: PathShape,
  types: EntityTypes,
): string[] {
  if (mode === false) return []
  const { segments, ids } = shape
  const n = segments.length
  if (n === 0) return [exactTag(segments)]
  const tags: string[] = []
  if (mode === 'hierarchical') {
    for (let i = 1; i <= n; i++) tags.push(subtreeTag(segments.slice(0, i)))
  } else if (ids[n - 1] === true) {
    tags.push(subtreeTag(segments), exactTag(segments.slice(0, -1)))
    if (n >= 2) tags.push(exactTag(segments.slice(0, -2)))
  } else {
    tags.push(method === 'POST' ? exactTag(segments) : subtreeTag(segments))
    tags.push(exactTag(segments.slice(0, -1)))
  }
  const entity = pathEntityTag(shape, types)
  if (entity !== undefined) tags.push(entity)
  return tags
}
