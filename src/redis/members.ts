import { MEMBER_IDLE_RENEW_MS } from '../bus/bus.js'
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
 * The members of a Redis bus's fleet: every process with a bus on `store`'s prefix joins
 * `{prefix}:members` when it starts and when it wakes from idle, and renews its record every
 * 5 × `maxSilence` while it reads and once a minute while idle (docs/fleet.md). A record older
 * than that belongs to a process that is paused, cut off or gone; acknowledged invalidations wait
 * for those joined within 15 × `maxSilence`.
 *
 * A cache on that store lists them with `cache.members()`; this reads them without one.
 *
 * @example
 * const members = redisMembers(redisStore({ url, prefix: 'app' }))
 * console.log(await members())
 */
export function redisMembers(store: RedisMembersStore): () => Promise<RedisMember[]> {
  return () => readMembers(store)
}

/**
 * The member records on `store`'s prefix, newest first, at most 500: what `redisMembers` and a
 * Redis bus's `members()` (`cache.members()`) list.
 */
export async function readMembers(store: RedisMembersStore): Promise<RedisMember[]> {
  // Newest first, so a crowd of stale records cannot push the live ones out of the page.
  const flat = await store.client.zrange(
    slotKeys(store.prefix).members,
    -MAX_MEMBERS,
    -1,
    'WITHSCORES',
  )
  const members: RedisMember[] = []
  for (let i = flat.length - 2; i >= 0; i -= 2) {
    const id = flat[i] as string
    // Marks of the records themselves (fleet-scripts.ts), not members.
    if (!id.startsWith('~')) members.push({ id, seenAt: Number(flat[i + 1]) })
  }
  return members
}

/**
 * Whether a member whose record was renewed at `seenAt` listens, given the `newest` record of its
 * fleet (both by the store's clock): an idle member renews its record every
 * `MEMBER_IDLE_RENEW_MS`, a reading one more often, so a listening member's record is within two
 * of those of the newest. The one rule `BusMember.listening` (and `heard_by`) follows.
 */
export function isListening(seenAt: number, newest: number, maxSilenceMs: number): boolean {
  return seenAt >= newest - Math.max(2 * maxSilenceMs, 2 * MEMBER_IDLE_RENEW_MS)
}

/** The process id in a member's name (`cachegraph-bus-<pid>-<random>`). */
export function pidOf(id: string): number | undefined {
  const pid = /^cachegraph-bus-(\d+)-[0-9a-f]+$/.exec(id)?.[1]
  return pid === undefined ? undefined : Number(pid)
}
