/** One process of the fleet, as `GET {prefix}/members` lists it. */
export interface FleetMember {
  /** The member's name on the bus (a Redis bus: `cachegraph-bus-<pid>-<random>`). */
  id: string
  /** When it last said it was alive (ms since the epoch, by the store's clock). */
  seenAt: number
}

/** Reads the fleet's members (see `admin.members`; `redisMembers` from `cachegraph/redis`). */
export type MembersSource = () => Promise<readonly FleetMember[]>

// Kept here for `cachegraph/http`'s users; it lives with the Redis key names it reads.
export { redisMembers } from '../../redis/members.js'
export type { RedisMembersStore } from '../../redis/members.js'
