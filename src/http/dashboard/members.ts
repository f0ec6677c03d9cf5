/** One process of the fleet, as `GET {prefix}/members` lists it. */
export interface FleetMember {
  /** The member's name on the bus (a Redis bus: `cachegraph-bus-<pid>-<random>`). */
  id: string
  /** When it last said it was alive (ms since the epoch, by the store's clock). */
  seenAt: number
}

/** Reads the fleet's members (see `admin.members`). */
export type MembersSource = () => Promise<readonly FleetMember[]>

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
 * The members of a Redis bus's fleet: every process with a bus on `store`'s prefix refreshes
 * its record in `{prefix}:members` about four times per `maxSilence` (docs/fleet.md), so a
 * record older than that belongs to a process that is paused, cut off or gone.
 *
 * @example
 * const store = redisStore({ url, prefix: 'app' })
 * const cache = createCache({ namespace: 'app', store, bus: redisBus() })
 * app.register(cachegraph, { cache, admin: { authorize, members: redisMembers(store) } })
 */
export function redisMembers(store: RedisMembersStore): MembersSource {
  const key = `{${store.prefix}}:members`
  return async () => {
    // Newest first, so a crowd of stale records cannot push the live ones out of the page.
    const flat = await store.client.zrange(key, -MAX_MEMBERS, -1, 'WITHSCORES')
    const members: FleetMember[] = []
    for (let i = flat.length - 2; i >= 0; i -= 2) {
      members.push({ id: flat[i] as string, seenAt: Number(flat[i + 1]) })
    }
    return members
  }
}
