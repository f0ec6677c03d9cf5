/**
 * The invalidation body, as the service's `POST /cache/invalidate` and the admin API's
 * `POST {prefix}/invalidate` both read it and as the client and the CLI write it. Loads nothing
 * of the engine: the client imports it.
 *
 * A body is one item or a non-empty list of them (at most {@link MAX_ITEMS}). An item holds any
 * of:
 * - `entity_id` and `entity_type` — the seed client's body (cache-central-flush): the entity tag
 *   `type:id`; `entity_id` is a string or an integer (kept exactly past 2^53);
 * - `tags` — a tag or a list of tags;
 * - `keys` — a list of keys, deleted.
 *
 * A single object may also say `stale: true` (tags and entities are served within their grace
 * while they refresh) and `ack: true` (answer once the fleet applied it; tags and entities only).
 */

/** One item of an invalidation body, in the wire's snake_case. */
export interface InvalidationItem {
  entity_id?: string | number | bigint
  entity_type?: string
  tags?: string | readonly string[]
  keys?: readonly string[]
}

/** A whole body: one item (which may carry `stale` and `ack`) or a list of items. */
export type InvalidationBody =
  (InvalidationItem & { stale?: boolean; ack?: boolean }) | readonly InvalidationItem[]

/** One entity named by a body. */
export interface EntityRef {
  type: string
  id: string | number | bigint
}

/** What a body asks for, deduplicated, in the body's order; entities are among `tags`. */
export interface InvalidationRequest {
  tags: string[]
  keys: string[]
  stale: boolean
  ack: boolean
}

/** Most items a list body may hold: a batch, not a way to make a server loop for long. */
export const MAX_ITEMS = 10_000

/** The outcome of {@link parseInvalidation}: the request, or a message for a 400 answer. */
export type Parsed = { ok: true; request: InvalidationRequest } | { ok: false; error: string }

/** Builds an entity's tag: the engine's `entityTag`, passed in so this module loads no engine. */
export type EntityTagOf = (type: string, id: string | number | bigint) => string

/**
 * Reads a parsed JSON body (see {@link InvalidationBody}). Never throws for a bad body: anything
 * else is a message naming the item at fault, for a 400 answer.
 */
export function parseInvalidation(body: unknown, entityTag: EntityTagOf): Parsed {
  try {
    return { ok: true, request: read(body, entityTag) }
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, error: error.message }
    throw error
  }
}

class Refusal extends Error {}

const fail = (message: string): never => {
  throw new Refusal(`cachegraph: ${message}`)
}

function read(body: unknown, entityTag: EntityTagOf): InvalidationRequest {
  const list = Array.isArray(body)
  const items = list ? (body as unknown[]) : [body]
  if (items.length === 0) fail('the list is empty')
  if (items.length > MAX_ITEMS) fail(`a list holds at most ${MAX_ITEMS} items`)
  const tags = new Set<string>()
  const keys = new Set<string>()
  let stale = false
  let ack = false
  items.forEach((item, index) => {
    const where = list ? ` (item ${index})` : ''
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      fail(`expected a JSON object${where}`)
    }
    const fields = item as Record<string, unknown>
    const { tags: t, keys: k, entity_id: id, entity_type: type } = fields
    for (const tag of strings(t, 'tags', where, true)) tags.add(tag)
    for (const key of strings(k, 'keys', where, false)) keys.add(key)
    if (id !== undefined || type !== undefined) {
      const entity = entityOf(type, id, where)
      tags.add(entityTag(entity.type, entity.id))
    } else if (t === undefined && k === undefined) {
      fail(`give \`entity_id\` and \`entity_type\`, \`tags\` or \`keys\`${where}`)
    }
    for (const name of ['stale', 'ack'] as const) {
      const flag = fields[name]
      if (flag === undefined) continue
      if (list) fail(`\`${name}\` applies to a whole request: send one object${where}`)
      if (typeof flag !== 'boolean') fail(`\`${name}\` must be a boolean`)
      if (name === 'stale') stale = flag as boolean
      else ack = flag as boolean
    }
  })
  if (ack && keys.size > 0) fail('`ack` covers tags and entities, not `keys`')
  return { tags: [...tags], keys: [...keys], stale, ack }
}

function strings(value: unknown, name: string, where: string, single: boolean): string[] {
  if (value === undefined) return []
  const list = single && typeof value === 'string' ? [value] : value
  if (!Array.isArray(list) || list.some((one) => typeof one !== 'string' || one === '')) {
    fail(`\`${name}\` must be a list of non-empty strings${where}`)
  }
  return list as string[]
}

function entityOf(type: unknown, id: unknown, where: string): EntityRef {
  if (typeof type !== 'string' || type === '') {
    fail(
      `entity type must be a non-empty string, got ${JSON.stringify(type) ?? 'undefined'}${where}`,
    )
  }
  const valid =
    (typeof id === 'string' && id !== '') ||
    (typeof id === 'number' && Number.isFinite(id)) ||
    typeof id === 'bigint'
  if (!valid) fail(`entity id must be a string or number, got ${String(id)}${where}`)
  return { type: type as string, id: id as EntityRef['id'] }
}

/** One invalidation as a client queues it: an entity or a tag. */
export type OutgoingInvalidation =
  { entityType: string; entityId: string | number } | { tag: string }

/**
 * The body for `items`: one entity alone goes out in the seed's body `{ entity_id, entity_type }`,
 * so servers written for cache-central-flush keep working; anything more is a list — entities in
 * the seed's shape, then one `{ tags }`, then one `{ keys }`.
 */
export function invalidationBody(
  items: readonly OutgoingInvalidation[],
  keys: readonly string[] = [],
): InvalidationBody {
  const list: InvalidationItem[] = []
  const tags: string[] = []
  for (const item of items) {
    if ('tag' in item) tags.push(item.tag)
    else list.push({ entity_id: item.entityId, entity_type: item.entityType })
  }
  if (tags.length > 0) list.push({ tags })
  if (keys.length > 0) list.push({ keys: [...keys] })
  return list.length === 1 ? (list[0] as InvalidationItem) : list
}

/**
 * The answer to an invalidation (`200`), as the service's `POST /cache/invalidate` and the admin
 * API's `POST {prefix}/invalidate` send it. Fields may be added; readers ignore what they do not
 * know.
 */
export interface InvalidationAnswer {
  status: 'invalidated'
  /** The step of the store's sequence that covers it. */
  seq: number
  tags: string[]
  keys?: string[]
  /** With `ack`: how the fleet acknowledged it (and how long that took). */
  fleet?: { members: number; acked: number; late: string[] }
  /**
   * How many other processes listen on the same store and bus, so heard it (with `ack`: how many
   * were asked to acknowledge it). `0` means nobody else did — most often a service or app on
   * another Redis, prefix or namespace than the apps. Absent without a bus (nobody can hear it,
   * and processes sharing the store still see it when they read).
   */
  heard_by?: number
}

/** `heard_by` of an answer (anything parsed from JSON), when it carries one. */
export function heardByOf(answer: unknown): number | undefined {
  const heard = (answer as Partial<InvalidationAnswer> | null)?.heard_by
  return typeof heard === 'number' && Number.isSafeInteger(heard) && heard >= 0 ? heard : undefined
}
