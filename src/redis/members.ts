import { slotKeys } from './keys.js'

/** One process of a Redis bus's fleet. */
export interface RedisMember {
  /** The member's name on the bus: `cachegraph-bus-<pid>-<random>`. */
  id: string
  /** When it last said it was alive (ms since the epoch, by Redis's clock). */
  seenAt: number
}

/** What `redisMembers` needs of a Redis store: its client and key prefix (`redisStore()` has both). */
export interface RedisMembersStore {
  readonly prefix: string
  readonly client: {
    zrange(key: string, start: number, stop: number, withScores: 'WITHSCORES'): Promise<string[]>
  }
}

/** Members listed at most: a dashboard shows a fleet, not a census. */
const MAX_MEMBERS = 500

/**
 * The members of a Redis bus's fleet, for the admin API's `members` option: every process with a
 * bus on `store`'s prefix refreshes its record in `{prefix}:members` about four times per
 * `maxSilence` (docs/fleet.md), so a record older than that belongs to a process that is paused,
 * cut off or gone.
 *
 * @example
 * const store = redisStore({ url, prefix: 'app' })
 * const cache = createCache({ namespace: 'app', store, bus: redisBus() })
 * app.register(cachegraph, { cache, admin: { authorize, members: redisMembers(store) } })
 */
export function redisMembers(store: RedisMembersStore): () => Promise<RedisMember[]> {
  const key = slotKeys(store.prefix).members
  return async () => {
    // Newest first, so a crowd of stale records cannot push the live ones out of the page.
    const flat = await store.client.zrange(key, -MAX_MEMBERS, -1, 'WITHSCORES')
    const members: RedisMember[] = []
    for (let i = flat.length - 2; i >= 0; i -= 2) {
      members.push({ id: flat[i] as string, seenAt: Number(flat[i + 1]) })
    }
    return members
  }
}
