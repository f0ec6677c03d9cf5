import type { Cache } from '../index.js'

/** Options of {@link createCacheHandler} and {@link createIncrementalCacheHandler}. */
export interface NextCacheOptions {
  /**
   * The cache entries and tag records live in: with a shared store and a bus (e.g. `redisStore()`
   * and `redisBus()` from `cachegraph/redis`) every Next.js instance sees every other's entries
   * and revalidations.
   */
  cache: Cache
  /**
   * `revalidateTag`, `updateTag` and `revalidatePath` resolve only once every instance with a bus
   * applied them (or stopped trusting its memory tier): no instance serves the old entry after
   * that. Without it, other instances catch up within the bus bound (docs/fleet.md).
   * @default false
   */
  ack?: boolean
}
