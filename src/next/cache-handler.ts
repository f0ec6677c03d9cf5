import type { CacheEntry, CacheHandler } from 'next/dist/server/lib/cache-handlers/types.js'

import type { Cache } from '../index.js'
import type { NextCacheOptions } from './options.js'
import { TagStates } from './tag-state.js'

/** What is stored for one `'use cache'` entry: its bytes and Next's metadata. */
interface StoredEntry {
  bytes: Uint8Array
  tags: string[]
  stale: number
  timestamp: number
  expire: number
  revalidate: number
}

/** Longest `expire` (seconds) kept as a ttl; longer ones (Next's "infinite") live until `maxLifetime`. */
const MAX_TTL_SECONDS = 365 * 24 * 3600

/**
 * The handler `cacheHandlers: { default, remote }` in `next.config` loads, for `'use cache'` and
 * `'use cache: remote'` (Next.js 15 and later). Entries live in `cache` with Next's tags as
 * their tags; `updateTags` (what `revalidateTag`, `updateTag` and `revalidatePath` call) is a
 * cachegraph invalidation, so it reaches every instance sharing the store and bus.
 *
 * @example
 * ```ts
 * // cache-handlers/default.mjs
 * import { createCacheHandler } from 'cachegraph/next'
 * import { cache } from '../cache.mjs'
 * export default createCacheHandler({ cache })
 * ```
 */
export function createCacheHandler(options: NextCacheOptions): CacheHandler {
  const { cache } = options
  const tags = new TagStates(cache, options.ack === true)
  // Sets still reading their entry's stream: a get of the same key waits for them (per process;
  // each promise is dropped as soon as its set ends).
  const pending = new Map<string, Promise<void>>()

  return {
    async get(cacheKey, softTags) {
      const running = pending.get(cacheKey)
      if (running !== undefined) await running
      const stored = await cache.get<StoredEntry>(keyOf(cacheKey))
      // A negative expire is Next's eviction sentinel.
      if (stored === undefined || stored.expire < 0) return undefined
      const states = await tags.read([...stored.tags, ...softTags])
      const verdict = TagStates.judge(states, stored.timestamp)
      if (verdict === 'expired') return undefined
      const { bytes, ...meta } = stored
      return {
        ...meta,
        tags: [...meta.tags],
        // Stale: served once more while Next refreshes it in the background.
        revalidate: verdict === 'stale' ? -1 : meta.revalidate,
        value: streamOf(bytes),
      }
    },

    async set(cacheKey, pendingEntry) {
      let done!: () => void
      const running = new Promise<void>((resolve) => (done = resolve))
      pending.set(cacheKey, running)
      try {
        // The start token is taken before the value is complete: an invalidation of its tags from
        // now on voids the write. Both at once, so a rejected entry is always handled.
        const [asOf, entry] = await Promise.all([cache.begin(), pendingEntry])
        await store(cache, cacheKey, entry, asOf)
      } catch {
        // A failed render or stream is not cached; the next request renders again.
      } finally {
        if (pending.get(cacheKey) === running) pending.delete(cacheKey)
        done()
      }
    },

    async refreshTags() {
      // Nothing to fetch: the bus keeps this process's tag records current.
    },

    getExpiration() {
      // Infinity: Next passes the soft tags to `get`, which checks them against the fleet's records.
      return Promise.resolve(Infinity)
    },

    async updateTags(list, durations) {
      await tags.update(list, durations)
    },
  }
}

async function store(cache: Cache, cacheKey: string, entry: CacheEntry, asOf: number) {
  const bytes = await bytesOf(entry.value)
  // `expire: 0` is dynamic: Next renders it on every request and never reads it back.
  if (entry.expire === 0) return
  const { value: _, ...meta } = entry
  const value: StoredEntry = { ...meta, tags: [...meta.tags], bytes }
  await cache.set(keyOf(cacheKey), value, {
    tags: meta.tags,
    ttl: entry.expire > 0 && entry.expire < MAX_TTL_SECONDS ? entry.expire * 1000 : Infinity,
    asOf,
  })
}

async function bytesOf(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  const reader = stream.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    chunks.push(value)
  }
  return Buffer.concat(chunks)
}

/** A new stream over the stored bytes, for every reader. */
function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(new Uint8Array(bytes))
      controller.close()
    },
  })
}

const keyOf = (cacheKey: string): string => `next:use-cache:${cacheKey}`
