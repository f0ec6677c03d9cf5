/**
 * Every Redis key and channel name cachegraph uses, for a store prefix `P`. The Lua scripts
 * (`scripts.ts`, `cluster-scripts.ts`) build the same names from `P` inside Redis; everything
 * written in TypeScript builds them here.
 *
 * - `{P}:seq`, `{P}:epoch`, `{P}:floor` — the sequence, its epoch, and the lowest sequence the
 *   records vouch for (plain strings, no ttl); `{P}:w` — the watermark a read proves entries
 *   valid with (see scripts.ts).
 * - `{P}:h`, `{P}:s` — the tag records: hashes `tag → sequence` of the last hard / soft
 *   invalidation of each tag, each with its marker field `''` (no ttl).
 * - `{P}:k` — the key tags (`@key:...`) that stored entries carry, `tag → sequence` when last
 *   written, with its marker field `''` (no ttl); `{P}:pub` — the last step published.
 * - `{P}:bus` — the channel every sequence step but the quiet ones is published on; `{P}:log` —
 *   a stream of the same messages (quiet steps included), replayed by a process that missed some.
 * - `{P}:members` — a sorted set `member → last seen (ms)` of the processes with a bus (and marks
 *   starting with `~`, fleet-scripts.ts); `{P}:ackreq` — the channel of acknowledgement requests;
 *   `{P}:acks:<member>:<seq>` — a list of the members that answered `member`'s request for step
 *   `seq`; `{P}:ack:<member>` — the channel where `member` hears that as many answered as it
 *   asked.
 * - `P:e:<key>` — an entry, always with a ttl, outside the `{P}` slot so a cluster spreads
 *   entries; `P:l:<key>` — the lease of `<key>`, beside it, with its ttl.
 *
 * The `{P}` names share one hash slot (the braces are Redis Cluster's hash tag), so every script
 * that steps the sequence touches one slot.
 */

/** `{P}`: the hash-tagged part every state key and channel of prefix `P` starts with. */
export const slotOf = (prefix: string): string => `{${prefix}}`

/** The state keys and channels of prefix `P`: all in the `{P}` hash slot. */
export interface SlotKeys {
  /** `{P}:seq` */
  readonly seq: string
  /** `{P}:epoch` */
  readonly epoch: string
  /** `{P}:floor` */
  readonly floor: string
  /**
   * `{P}:w`: the watermark, `'w seq'`: no tag record above `w` exists but those of superseding
   * writes that replaced their key's entry in the same step; `seq` is the sequence it is current
   * at. With it a read proves entries valid from one `MGET` (reply.ts `parseProven`).
   */
  readonly watermark: string
  /** `{P}:h`: the hard invalidation records. */
  readonly hard: string
  /** `{P}:s`: the soft (stale) invalidation records. */
  readonly soft: string
  /**
   * `{P}:k`: the key tags stored entries carry, `tag → sequence` when last written, with a marker
   * field `''`. A superseding `set` of a key tag not in it is quiet (scripts.ts `quietFor`).
   */
  readonly known: string
  /** `{P}:pub`: the last step published on the bus (the quiet ones are not). */
  readonly published: string
  /** `{P}:bus`: the channel of sequence steps. */
  readonly bus: string
  /** `{P}:log`: the stream of recent steps. */
  readonly log: string
  /** `{P}:members`: the fleet's members and when each was last seen. */
  readonly members: string
  /** `{P}:ackreq`: the channel of acknowledgement requests. */
  readonly ackRequests: string
}

export function slotKeys(prefix: string): SlotKeys {
  const slot = slotOf(prefix)
  return {
    seq: `${slot}:seq`,
    epoch: `${slot}:epoch`,
    floor: `${slot}:floor`,
    watermark: `${slot}:w`,
    hard: `${slot}:h`,
    soft: `${slot}:s`,
    known: `${slot}:k`,
    published: `${slot}:pub`,
    bus: `${slot}:bus`,
    log: `${slot}:log`,
    members: `${slot}:members`,
    ackRequests: `${slot}:ackreq`,
  }
}

/** `{P}:ack:<member>`: where `member` hears the answers to its acknowledgement requests. */
export const ackChannel = (prefix: string, member: string): string =>
  `${slotOf(prefix)}:ack:${member}`

/** `{P}:acks:<member>:<seq>`: the members that answered `member`'s request for step `seq`. */
export const ackWaitsKey = (prefix: string, member: string, seq: number): string =>
  `${slotOf(prefix)}:acks:${member}:${seq}`

/** `P:e:`: what every entry's key starts with (a `SCAN` pattern is this plus a glob). */
export const entryPrefix = (prefix: string): string => `${prefix}:e:`

/** `P:e:<key>`: the Redis key of the entry `key`. */
export const entryKey = (prefix: string, key: string): string => `${prefix}:e:${key}`

/** `P:l:<key>`: the lease of the entry `key`. */
export const leaseKey = (prefix: string, key: string): string => `${prefix}:l:${key}`

/** Every key of prefix `P` as `SCAN` patterns: its state (`{P}:*`) and its entries and leases. */
export const allKeyPatterns = (prefix: string): string[] => [
  `${slotOf(prefix)}:*`,
  `${prefix}:e:*`,
  `${prefix}:l:*`,
]
