import type {
  CacheHandler,
  CacheHandlerContext,
  CacheHandlerValue,
} from 'next/dist/server/lib/incremental-cache/index.js'
import type { IncrementalCacheValue } from 'next/dist/server/response-cache/types.js'

import type { NextCacheOptions } from './options.js'
import { now, TagStates } from './tag-state.js'

type GetContext = Parameters<CacheHandler['get']>[1]
type SetContext = Parameters<CacheHandler['set']>[2]

/** What is stored for one ISR page, route handler response, image or fetch result. */
interface StoredValue {
  lastModified: number
  value: IncrementalCacheValue | null
  cacheControl?: CacheHandlerValue['cacheControl']
  tags: string[]
}

/** The header Next puts a page's or route's tags in (`NEXT_CACHE_TAGS_HEADER`). */
const TAGS_HEADER = 'x-next-cache-tags'
/** Longest `expire` (seconds) kept as a ttl; longer ones live until the cache's `maxLifetime`. */
const MAX_TTL_SECONDS = 365 * 24 * 3600

/** The class `cacheHandler` (singular) in `next.config` loads: the instance Next constructs. */
export type IncrementalCacheHandlerClass = new (ctx: CacheHandlerContext) => CacheHandler

/**
 * The class `cacheHandler` in `next.config` loads, for ISR pages, route handlers, images and the
 * fetch cache. Entries live in `cache` with their tags (a page's from its `x-next-cache-tags`
 * header, a fetch's from its `tags`); `revalidateTag` is a cachegraph invalidation, so it reaches
 * every instance sharing the store and bus, and the soft tags of a fetch (`revalidatePath`) are
 * checked on every `get`.
 *
 * @example
 * ```ts
 * // cache-handler.mjs
 * import { createIncrementalCacheHandler } from 'cachegraph/next'
 * import { cache } from './cache.mjs'
 * export default createIncrementalCacheHandler({ cache })
 * ```
 */
export function createIncrementalCacheHandler(
  options: NextCacheOptions,
): IncrementalCacheHandlerClass {
  const { cache } = options
  const states = new TagStates(cache, options.ack === true)

  return class CachegraphIncrementalCache implements CacheHandler {
    /** Tags this request revalidated (Next passes them per request). */
    readonly #revalidated: readonly string[]

    constructor(ctx: CacheHandlerContext) {
      this.#revalidated = ctx.revalidatedTags ?? []
    }

    async get(cacheKey: string, ctx: GetContext): Promise<CacheHandlerValue | null> {
      const stored = await cache.get<StoredValue>(keyOf(cacheKey))
      if (stored === undefined) return null
      const tags = [...stored.tags]
      if (stored.value !== null && (stored.value.kind as string) === 'FETCH') {
        const fetchCtx = ctx as { tags?: string[]; softTags?: string[] }
        tags.push(...(fetchCtx.tags ?? []), ...(fetchCtx.softTags ?? []))
        if (tags.some((tag) => this.#revalidated.includes(tag))) return null
      }
      const verdict = TagStates.judge(await states.read(tags), stored.lastModified)
      if (verdict === 'expired') return null
      return {
        // -1: Next serves it once more and regenerates it in the background.
        lastModified: verdict === 'stale' ? -1 : stored.lastModified,
        value: withBuffers(stored.value),
        ...(stored.cacheControl !== undefined && { cacheControl: stored.cacheControl }),
      }
    }

    async set(cacheKey: string, data: IncrementalCacheValue | null, ctx: SetContext) {
      const cacheControl = ctx.fetchCache === true ? undefined : ctx.cacheControl
      const tags = tagsOf(data, ctx)
      const expire = cacheControl?.expire
      const value: StoredValue = {
        // Not rounded, to order it against revalidations within the same millisecond.
        lastModified: now(),
        value: data,
        tags,
        ...(cacheControl !== undefined && { cacheControl }),
      }
      await cache.set(keyOf(cacheKey), value, {
        tags,
        ttl:
          expire !== undefined && expire > 0 && expire < MAX_TTL_SECONDS ? expire * 1000 : Infinity,
      })
    }

    async revalidateTag(tags: string | string[], durations?: { expire?: number }) {
      await states.update(typeof tags === 'string' ? [tags] : tags, durations)
    }

    resetRequestCache() {
      // No per-request memory: every read goes through the cache.
    }
  }
}

/** A page's or route's tags from its `x-next-cache-tags` header; a fetch's from its context. */
function tagsOf(data: IncrementalCacheValue | null, ctx: SetContext): string[] {
  if (data === null) return []
  const tags = new Set<string>()
  if ((data.kind as string) === 'FETCH') {
    const fetch = data as { tags?: string[] }
    for (const tag of [...(fetch.tags ?? []), ...(('tags' in ctx && ctx.tags) || [])]) tags.add(tag)
  } else if ('headers' in data && data.headers !== undefined) {
    const header = data.headers[TAGS_HEADER]
    if (typeof header === 'string') for (const tag of header.split(',')) if (tag) tags.add(tag)
  }
  return [...tags]
}

/**
 * Bytes come back from a shared store as `Uint8Array`s; Next checks `Buffer.isBuffer` (page RSC
 * data, segment data, route bodies, images), so every one becomes a `Buffer` over the same memory.
 */
function withBuffers<T>(value: T): T {
  if (value instanceof Uint8Array) {
    return (
      Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength)
    ) as T
  }
  if (value instanceof Map) {
    let changed = false
    const copy = new Map<unknown, unknown>()
    for (const [k, v] of value as Map<unknown, unknown>) {
      const revived = withBuffers(v)
      changed ||= revived !== v
      copy.set(k, revived)
    }
    return (changed ? copy : value) as T
  }
  if (Array.isArray(value)) {
    const copy = value.map((v: unknown) => withBuffers(v))
    return (copy.some((v, i) => v !== value[i]) ? copy : value) as T
  }
  if (
    typeof value === 'object' &&
    value !== null &&
    Object.getPrototypeOf(value) === Object.prototype
  ) {
    let changed = false
    const copy: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const revived = withBuffers(v)
      changed ||= revived !== v
      copy[k] = revived
    }
    return (changed ? copy : value) as T
  }
  return value
}

const keyOf = (cacheKey: string): string => `next:incremental:${cacheKey}`
