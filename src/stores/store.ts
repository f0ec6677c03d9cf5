/**
 * The contract every shared tier implements (memory, Redis, Redis Cluster, fault injectors).
 *
 * The store keeps one forward-only sequence per cache prefix and a record per invalidated tag.
 * The engine validates entries itself: a store only has to answer each call atomically, and a
 * good store answers each call in one round trip. See docs/invalidation.md for the model.
 */
import type { Logger } from '../warnings.js'

/** Highest invalidation sequence recorded for a tag, hard (drop) and soft (serve stale). */
export interface TagSeq {
  hard: number
  soft: number
}

/** An entry handed to {@link Store.write}. */
export interface StoreEntry {
  /** Full key, namespace included. */
  key: string
  /** Serialized value and engine metadata; opaque to the store. */
  payload: string
  /** Every tag the entry depends on (implicit key and namespace tags included). */
  tags: readonly string[]
  /**
   * Per tag, the sequence that tag's information is as of (a nested input may be older or newer
   * than the entry's own load). Omitted: every tag is as of `start`.
   */
  tagStarts?: readonly number[]
  /**
   * Sequence as of which the value was built. Omitted: the `asOf` of the write; without either,
   * the write supersedes (see `keyTag`), else it is as of the current sequence.
   */
  start?: number
  /**
   * The entry's own key tag. A write with neither `start` nor `asOf` takes the next sequence `s`
   * (as `invalidate` does), records this tag at `s` and stores the entry as of `s`, atomically:
   * a load of the key that started earlier can then never overwrite it, in this process or any
   * other (a plain `set` racing a slow loader).
   */
  keyTag?: string
  /** How long the store keeps the entry, in ms (> 0). Expiry is physical clean-up only. */
  ttlMs: number
}

/** An entry as the store returns it. */
export interface StoredRecord {
  payload: string
  tags: readonly string[]
  /** The oldest sequence any of its information is as of. */
  start: number
  /** Per-tag starts, when they differ from `start`. */
  tagStarts?: readonly number[]
}

/** Answer to {@link Store.read}. */
export interface StoreReadResult {
  /** One slot per requested key, `undefined` where the store has nothing. */
  entries: (StoredRecord | undefined)[]
  /**
   * The records of every tag of every returned entry. A tag with no record reports the store's
   * floor (the lowest sequence it can still vouch for), never 0: a lost record must not make an
   * invalidated entry valid again.
   */
  tagSeqs: Record<string, TagSeq>
  /** The store's current sequence: a load that starts now is "as of" it. */
  seq: number
  /** Changes whenever the store lost its state (restart, failover, FLUSHDB). */
  epoch: string
  /**
   * The last step the store announced on its bus, where it knows and it differs from `seq` (a
   * Redis store's unchecked reads: the steps after it were quiet). A process that applied every
   * step up to it knows every invalidation up to `seq` that an entry can carry.
   */
  published?: number | undefined
}

/** An entry for {@link Store.check}: what a write would check, without the payload. */
export type StoreCheckedEntry = Pick<StoreEntry, 'tags' | 'tagStarts' | 'start'>

/** Answer to {@link Store.readProven}. */
export interface StoreProvenRead extends StoreReadResult {
  /**
   * Indexes of the keys whose entries were found but not proven valid: in `entries` as read,
   * unchecked (the process may refuse one by its own records; it never serves one as is), for
   * {@link Store.read} to answer.
   */
  unsure: number[]
}

/** Options of {@link Store.write}. */
export interface StoreWriteOptions {
  /** Sequence for entries without their own `start`. */
  asOf?: number
}

/** Answer to {@link Store.write}. */
export interface StoreWriteResult {
  /** Per entry: whether it was stored (false when a tag was invalidated after its `start`). */
  written: boolean[]
  /** Per entry: the `start` it was stored with. */
  starts: number[]
  seq: number
  epoch: string
}

/** Answer to {@link Store.invalidate}. */
export interface StoreInvalidateResult {
  seq: number
  epoch: string
  /** Whom the acknowledgement request sent with the step asked ({@link StoreInvalidateOptions.ack}). */
  asked?: FleetAsked
}

/** Options of {@link Store.scan}. */
export interface StoreScanOptions {
  /** Glob over full keys (`*`, `?`, `[abc]`, `\\` escapes), as Redis `MATCH`. */
  match: string
  /** Where the previous page stopped; `'0'` or omitted starts over. Opaque. */
  cursor?: string
  /** A hint of how many keys to look at. @default 100 */
  count?: number
}

/** One page of {@link Store.scan}. */
export interface StoreScanPage {
  keys: { key: string; ttlMs: number }[]
  /** `'0'` when the scan is complete. */
  cursor: string
}

/** How {@link Store.invalidate} records a step. */
export interface StoreInvalidateOptions {
  /** A soft step: entries of the tags may be served stale within their grace period. */
  stale?: boolean
  /**
   * The tags are key tags (`@key:...`) of keys removed — a `delete`, a `set` not stored. A store
   * that publishes only the steps somebody may need may keep the step quiet when no entry it
   * stored ever carried any of them (Redis: docs/invalidation.md, "Quiet steps"). Not with `stale`:
   * a soft step is never quiet.
   */
  keys?: boolean
  /**
   * Ask the fleet to acknowledge the step, in the same call (`invalidate(tags, { ack: true })`;
   * from the bus, `BusConnection.ackRequest`): the request goes out right behind the step's
   * message, so the fleet wakes once for both, and the asker saves a round trip. The store that
   * carries it answers `asked`; one that does not ignores it, and the bus asks on its own.
   */
  ack?: StoreAckRequest
}

/** Whom an acknowledgement request asked. */
export interface FleetAsked {
  /** The members asked (the requester left out). */
  asked: string[]
  /**
   * The records could say who listens. False when they were lost lately (evicted while the
   * store's state was not): members that listen may be missing, so the requester waits the
   * full `maxSilence`, after which every member has applied the step or distrusts its L1.
   */
  sure: boolean
}

/** An acknowledgement request a store sends with an invalidation's step. */
export interface StoreAckRequest {
  /** The member asking (its bus's member id): it hears the answers. */
  requester: string
  /** Members whose last join is within this many ms are asked. */
  listedWithinMs: number
  /** How long the store keeps the answers (the requester waits `maxSilence` at most). */
  keepMs: number
  /**
   * The requester joined lately, so its own record should be listed: when it is not, the records
   * were lost, and the answer says the members are not known.
   */
  expectSelf: boolean
}

/** A shared tier. Each method is atomic; a remote store does each in one round trip. */
export interface Store {
  /** A short name for logs and `inspect()`: `'memory'`, `'redis'`, ... */
  readonly name: string
  /** Entries, the records of their tags, and the current `{ seq, epoch }`. `read([])` is legal. */
  read(keys: readonly string[]): Promise<StoreReadResult>
  /**
   * Stores each entry unless one of its tags has a hard record above that tag's start (it was
   * invalidated while the value was being built), a tag without a record is as of a sequence
   * below the floor, or a live entry as of a later `start` is already stored.
   */
  write(entries: readonly StoreEntry[], options?: StoreWriteOptions): Promise<StoreWriteResult>
  /**
   * Takes the next sequence number `s` and records it for every tag (as a soft record with
   * `stale: true`), atomically. Cost does not depend on how many entries carry the tags.
   */
  invalidate(
    tags: readonly string[],
    options?: StoreInvalidateOptions,
  ): Promise<StoreInvalidateResult>
  /**
   * Optional: checks entries kept outside the store (a session's private ones) as {@link write}
   * would, without storing them, and notes the key tags they carry as {@link write} does for the
   * entries it stores. A store that publishes only the steps somebody may need (Redis: a first
   * `set` of a key no entry carried is quiet) must hear of these too, or their holders would not
   * be told of such a `set`. `written`: per entry, whether its tags allow it.
   */
  check?(entries: readonly StoreCheckedEntry[]): Promise<StoreWriteResult>
  /**
   * Optional: the entries exactly as stored, **not** checked against the tag records
   * (`tagSeqs` is empty), with the current `{ seq, epoch }`, in one cheap call; undefined when
   * the store has no state (lost, or never created: use {@link Store.read}). Only a process whose
   * bus has delivered every invalidation up to `seq` can judge these entries itself; the engine
   * uses this then, and {@link Store.read} otherwise.
   */
  readUnchecked?(keys: readonly string[]): Promise<StoreReadResult | undefined>
  /**
   * Optional: the entries the store can prove valid without reading their tags' records — no hard
   * or soft record above any of their tags' starts, none of them older than the floor — with the
   * current `{ seq, epoch }`, in one cheap call (one `MGET` on Redis); `tagSeqs` is empty. The
   * entries found but not proven are listed in `unsure`, for {@link Store.read}. Undefined when
   * the store can prove nothing now (its state is missing or being mended: use `read`).
   */
  readProven?(keys: readonly string[]): Promise<StoreProvenRead | undefined>
  /**
   * Optional, for `lock: true`: takes the lease of `key` for `token` unless another token holds
   * it; the lease ends by itself after `ttlMs`. True when `token` holds it now. A lease only says
   * who computes a value; which values may be stored is decided by the sequence rules alone.
   */
  acquireLease?(key: string, token: string, ttlMs: number): Promise<boolean>
  /** Ends the lease of `key` if `token` still holds it. */
  releaseLease?(key: string, token: string): Promise<void>
  /**
   * Lists stored keys page by page (never all at once, never Redis `KEYS`). Pages may be empty
   * before the end and may repeat a key; entries come and go meanwhile. For admin listing and
   * pattern clears, not for the read path.
   */
  scan?(options: StoreScanOptions): Promise<StoreScanPage>
  /**
   * Optional: a cache given this store calls it with its `logger` (when it has one), before its
   * first call. The store reports its warnings there (with their `code`) in place of process
   * warnings; a store shared by several caches keeps the first logger.
   */
  useLogger?(logger: Logger): void
  /**
   * How long the store keeps tag records (ms), when it forgets older ones: no entry may live
   * longer (`createCache` refuses a `maxLifetime` with grace past it). Undefined: kept for good.
   */
  readonly keepRecordsMs?: number
  /** Releases connections and timers. */
  close(): Promise<void>
}
