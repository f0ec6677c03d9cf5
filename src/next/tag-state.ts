import type { Cache } from '../index.js'

/**
 * What the fleet knows of one Next.js tag, in the shape of Next's own tags manifest: when it was
 * last marked stale and when its entries expire (or expired), in milliseconds since the epoch.
 */
export interface TagState {
  stale?: number
  expired?: number
}

const NONE: TagState = Object.freeze({})
/** A tag no entry carries: invalidating it orders (and, with `ack`, confirms) the records' writes. */
const FENCE = 'next:tags'

/** Next's clock: the one it stamps `timestamp` and `lastModified` with. */
export const now = (): number => performance.timeOrigin + performance.now()

/**
 * The tags manifest, kept in the cache itself: one record per tag, written by `updateTags`, read
 * from L1 on a hit (a record that does not exist is remembered as `{}`), and kept coherent across
 * the fleet by the cache's own invalidations and bus.
 */
export class TagStates {
  readonly #cache: Cache
  readonly #ack: boolean

  constructor(cache: Cache, ack: boolean) {
    this.#cache = cache
    this.#ack = ack
  }

  /** The records of `tags` (`{}` for a tag never revalidated). */
  read(tags: readonly string[]): Promise<TagState[]> {
    return Promise.all(
      tags.map((tag) => this.#cache.getOrSet(keyOf(tag), () => NONE, { ttl: Infinity })),
    )
  }

  /** Whether an entry written at `timestamp` with these tag records is expired or stale. */
  static judge(states: readonly TagState[], timestamp: number): 'fresh' | 'stale' | 'expired' {
    const at = now()
    let stale = false
    for (const { expired, stale: staleAt } of states) {
      // As Next's tags manifest: expired once the expiry has come and was after the entry.
      if (expired !== undefined && expired <= at && expired > timestamp) return 'expired'
      if (staleAt !== undefined && staleAt > timestamp) stale = true
    }
    return stale ? 'stale' : 'fresh'
  }

  /**
   * `revalidateTag`/`updateTag`/`revalidatePath`: without `durations` the tags expire now (their
   * entries are invalidated in every tier and process); with `durations` they are stale now and
   * expire `durations.expire` seconds later, as Next's own handlers do. The records are written
   * first, then one invalidation carries them to every process (awaited by all with `ack`).
   */
  async update(tags: readonly string[], durations?: { expire?: number }): Promise<void> {
    if (tags.length === 0) return
    // Not rounded: within a millisecond, an entry stamped before the revalidation must stay older.
    const at = now()
    const states = await this.read(tags)
    await this.#cache.setMany(
      tags.map((tag, i) => {
        const state = states[i] ?? NONE
        const value: TagState =
          durations === undefined
            ? { ...state, expired: at }
            : {
                ...state,
                stale: at,
                ...(durations.expire !== undefined && { expired: at + durations.expire * 1000 }),
              }
        return { key: keyOf(tag), value, ttl: Infinity }
      }),
    )
    await this.#cache.invalidate(durations === undefined ? [...tags, FENCE] : [FENCE], {
      ack: this.#ack,
    })
  }
}

const keyOf = (tag: string): string => `next:tag:${tag}`
