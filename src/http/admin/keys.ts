import type { EntryInfo } from '../../index.js'
import type { RouteContext } from './context.js'
import { clampedInt, cursorJson, cursorParam, namespaceParam, optionalText } from './params.js'
import { json } from './responses.js'

/** Page sizes of `GET /keys`: a hint of how many keys the store looks at per page. */
const DEFAULT_COUNT = 100
const MAX_COUNT = 1_000

/** Milliseconds left → whole seconds, as the seed's `"ttl": 42` (rounded up: a live key never shows 0). */
const seconds = (ms: number): number => Math.ceil(ms / 1000)

/**
 * `GET /keys?pattern=&cursor=&count=` → `{ keys: [{ key, ttl, namespace, tags, size, created_at }],
 * cursor }`: one page of the keys of the cache and its children (`SCAN` on Redis, never `KEYS`).
 * A page may hold fewer keys than `count`, even none, before the cursor comes back as `0`. Each
 * key carries what the dashboard shows of it, read with the page: no `GET /keys/:key` per row.
 */
export async function listKeysRoute({ cache, query }: RouteContext): Promise<Response> {
  const pattern = optionalText(query, 'pattern')
  const count = clampedInt(query, 'count', DEFAULT_COUNT, 1, MAX_COUNT)
  const page = await cache.keys({ cursor: cursorParam(query), count, pattern })
  return json(200, {
    keys: page.keys.map(({ key, ttl, namespace, tags, size, createdAt }) => ({
      key,
      ttl: seconds(ttl),
      namespace,
      tags,
      size: size ?? null,
      created_at: createdAt === undefined ? null : new Date(createdAt).toISOString(),
    })),
    cursor: cursorJson(page.cursor),
  })
}

/**
 * `GET /keys/:key[?namespace=]` → the entry's tier, status, tags, ttl, size and times; 404 when
 * there is no entry or it was invalidated (deleted keys stay in a shared tier until their ttl).
 */
export async function inspectKeyRoute({ cache, query, param }: RouteContext): Promise<Response> {
  const owner = namespaceParam(cache, query)
  const info = await owner.inspect(param)
  if (info === undefined || info.status === 'invalid') {
    return json(404, {
      error: `cachegraph: no entry under key ${JSON.stringify(param)} in '${owner.name}'`,
    })
  }
  return json(200, describe(owner.name, param, info))
}

/** `DELETE /keys/:key[?namespace=]`: removes the key in every tier (and, with a bus, process). */
export async function deleteKeyRoute({ cache, query, param }: RouteContext): Promise<Response> {
  const owner = namespaceParam(cache, query)
  await owner.delete(param)
  return json(200, { status: 'deleted', key: param, namespace: owner.name })
}

function describe(namespace: string, key: string, info: EntryInfo) {
  return {
    key,
    namespace,
    tier: info.tier,
    status: info.status,
    // Implicit tags (`@key:`, `@ns:`) are bookkeeping: users can neither set nor invalidate them.
    tags: info.tags.filter((tag) => !tag.startsWith('@')),
    ttl: seconds(info.ttl),
    ttl_ms: info.ttl,
    size: info.size ?? null,
    created_at: new Date(info.createdAt).toISOString(),
    expires_at: new Date(info.expiresAt).toISOString(),
  }
}
