import { entityTag } from '../index.js'
import { HttpError } from '../http/admin/responses.js'

/** What one `POST /cache/invalidate` asks for: tags (entities included) and keys. */
export interface Invalidation {
  tags: string[]
  keys: string[]
}

/** Most items a list body may hold: a batch, not a way to make the service loop for long. */
export const MAX_ITEMS = 10_000

/**
 * The invalidation a body asks for: the seed's `{ entity_id, entity_type }`, `{ tags: [...] }`,
 * `{ keys: [...] }` (an object may combine them), or a JSON list of such objects. 400 with a
 * message naming the item for anything else.
 */
export function parseInvalidation(body: unknown): Invalidation {
  const items = Array.isArray(body) ? (body as unknown[]) : [body]
  if (items.length === 0) throw new HttpError(400, 'cachegraph: the list is empty')
  if (items.length > MAX_ITEMS) {
    throw new HttpError(400, `cachegraph: a list holds at most ${MAX_ITEMS} items`)
  }
  const tags = new Set<string>()
  const keys = new Set<string>()
  items.forEach((item, index) => {
    const where = Array.isArray(body) ? ` (item ${index})` : ''
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new HttpError(400, `cachegraph: expected a JSON object${where}`)
    }
    const { tags: t, keys: k, entity_id: id, entity_type: type } = item as Record<string, unknown>
    for (const tag of strings(t, 'tags', where)) tags.add(tag)
    for (const key of strings(k, 'keys', where)) keys.add(key)
    if (id !== undefined || type !== undefined) {
      try {
        tags.add(entityTag(type as string, id as string | number))
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        throw new HttpError(400, `${message}${where}`)
      }
    } else if (t === undefined && k === undefined) {
      throw new HttpError(
        400,
        `cachegraph: give \`entity_id\` and \`entity_type\`, \`tags\` or \`keys\`${where}`,
      )
    }
  })
  return { tags: [...tags], keys: [...keys] }
}

function strings(value: unknown, name: string, where: string): string[] {
  if (value === undefined) return []
  if (!Array.isArray(value) || value.some((one) => typeof one !== 'string' || one === '')) {
    throw new HttpError(400, `cachegraph: \`${name}\` must be a list of non-empty strings${where}`)
  }
  return value as string[]
}
