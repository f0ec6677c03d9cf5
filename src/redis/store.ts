import { type Cluster, Redis, type RedisOptions } from 'ioredis'

import { entryKey, slotKeys } from './keys.js'
import { RedisClusterStore } from './cluster.js'

import {
  acquireLease,
  checkEvictionPolicy,
  checkPrefix,
  processOrigin,
  releaseLease,
  runScript,
  scanNode,
  script,
} from './runner.js'
import {
  mergeReads,
  mergeSnapshots,
  mergeWrites,
  mergeProven,
  parseProven,
  parseRead,
  parseSnapshot,
  type ReadReply,
  sliceProven,
  sliceRead,
} from './reply.js'
import { entrySize, inTurn, MAX_READ_ITEMS, parts } from '../stores/batch-limits.js'
import { TickBatch } from '../util/tick-batch.js'
import { READ } from './scripts.js'
import { RecordsTrim, type TrimResult } from './records-trim.js'
import { STEPS } from './steps-script.js'
import { checkInParts, invalidateInSteps, StepBatch, writeReply } from './step-batch.js'
import type {
  Store,
  StoreCheckedEntry,
  StoreEntry,
  StoreInvalidateResult,
  StoreProvenRead,
  StoreReadResult,
  StoreScanOptions,
  StoreScanPage,
  StoreWriteOptions,
  StoreWriteResult,
  StoreInvalidateOptions,
} from '../stores/store.js'
import type { Logger } from '../warnings.js'
import { toMs, type Duration } from '../util/duration.js'
import { invalidOption } from '../errors.js'

/** Options of {@link redisStore}. */
export type RedisStoreOptions = (
  | {
      /** `redis://host:port/db`; the store creates (and closes) its own client. */
      url: string
      /** Extra ioredis options for the client the store creates. */
      redis?: RedisOptions
    }
  | {
      /** An existing ioredis client, standalone or `Cluster`. The store does not close it. */
      client: Redis | Cluster
    }
) & {
  /**
   * Prefix of every key, and the scope of the sequence and the tag records: caches that share a
   * prefix share invalidations. Use one per cache root namespace.
   * @default 'cg'
   */
  prefix?: string
  /**
   * How long the records of invalidations and of superseding `set`s are kept. Older ones are
   * deleted and the floor rises above them (docs/redis.md, "Records kept"): an entry older than
   * this is a miss, never a stale hit. Must be longer than any entry lives (the caches'
   * `maxLifetime` and grace: `createCache` checks). `Infinity` keeps every record.
   * @default '7d'
   */
  keepRecords?: Duration
}

const SCRIPTS = { read: script(READ), steps: script(STEPS) }

/**
 * The shared tier on Redis (or Valkey). Each call is one Lua script — one round trip — that reads
 * or changes entries together with the sequence and the tag records they are checked against.
 * See `keys.ts` for the key layout, docs/redis.md for deployment.
 */
export class RedisStore implements Store {
  readonly name = 'redis'
  readonly prefix: string
  readonly client: Redis
  readonly #ownsClient: boolean
  readonly #seqKey: string
  readonly #epochKey: string
  /** `{P}:pub`: read with unchecked reads (see `StoreReadResult.published`). */
  readonly #publishedKey: string
  readonly #floorKey: string
  readonly #watermarkKey: string
  #policyChecked = false
  #logger: Logger | undefined
  /** How long records are kept (ms; `keepRecords`). */
  readonly keepRecordsMs: number
  readonly #trim: RecordsTrim
  /**
   * Who sends this store's steps, in their bus messages: the member id of the cache's bus once one
   * connects (`redisBus`), else a name of this store's own.
   */
  origin = processOrigin()

  constructor(client: Redis, prefix: string, ownsClient: boolean, keepRecordsMs: number) {
    checkPrefix(prefix)
    this.client = client
    this.prefix = prefix
    this.#ownsClient = ownsClient
    const keys = slotKeys(prefix)
    this.keepRecordsMs = keepRecordsMs
    this.#trim = new RecordsTrim(client, prefix, keys.seq, keepRecordsMs)
    this.#seqKey = keys.seq
    this.#epochKey = keys.epoch
    this.#publishedKey = keys.published
    this.#floorKey = keys.floor
    this.#watermarkKey = keys.watermark
  }

  /** The Redis key of an entry. */
  entryKey(key: string): string {
    return entryKey(this.prefix, key)
  }

  /**
   * Reads made in the same tick share one script call. A read of more keys than one script takes
   * (`batch-limits.ts`) is split into parts read in turn, each checked atomically.
   */
  read(keys: readonly string[]): Promise<StoreReadResult> {
    // One key (every `get`) is one part: nothing to split.
    if (keys.length === 1) return this.#reads.load(keys)
    const split = parts(keys, keyLength, MAX_READ_ITEMS)
    if (split.length === 1) return this.#reads.load(keys)
    return inTurn(split, (part) => this.#reads.load(part)).then(mergeReads)
  }

  /**
   * One `MGET` of the entry strings, the sequence and the epoch: no script, no tag records.
   * Unchecked reads made in the same tick share one `MGET`; big ones are split as `read` is.
   */
  readUnchecked(keys: readonly string[]): Promise<StoreReadResult | undefined> {
    // One key (every `get`) is one part: nothing to split.
    if (keys.length === 1) return this.#uncheckedReads.load(keys)
    const split = parts(keys, keyLength, MAX_READ_ITEMS)
    if (split.length === 1) return this.#uncheckedReads.load(keys)
    return inTurn(split, (part) => this.#uncheckedReads.load(part)).then(mergeSnapshots)
  }

  readonly #reads = new TickBatch<StoreReadResult>(
    async (keys) => {
      const reply = (await this.#run(SCRIPTS.read, keys)) as ReadReply
      return parseRead(reply, keys.length)
    },
    sliceRead,
    MAX_READ_ITEMS,
  )

  /**
   * One `MGET` of the entries, the state and the watermark `{P}:w`: the entries it proves valid
   * need nothing more (reply.ts `parseProven`), the others are `unsure`, for {@link read}. Proven
   * reads made in the same tick share one `MGET`; big ones are split as `read` is.
   */
  readProven(keys: readonly string[]): Promise<StoreProvenRead | undefined> {
    // One key (every `get`) is one part: nothing to split.
    if (keys.length === 1) return this.#provenReads.load(keys)
    const split = parts(keys, keyLength, MAX_READ_ITEMS)
    if (split.length === 1) return this.#provenReads.load(keys)
    return inTurn(split, (part) => this.#provenReads.load(part)).then(mergeProven)
  }

  readonly #provenReads = new TickBatch<StoreProvenRead | undefined>(
    async (keys) => {
      this.#checkPolicy()
      const names = keys.map((key) => this.entryKey(key))
      names.push(this.#seqKey, this.#epochKey, this.#floorKey, this.#watermarkKey)
      return parseProven(await this.client.mget(names), keys)
    },
    (result, from, count) => result && sliceProven(result, from, count),
    MAX_READ_ITEMS,
  )

  readonly #uncheckedReads = new TickBatch<StoreReadResult | undefined>(
    async (keys) => {
      const names = keys.map((key) => this.entryKey(key))
      names.push(this.#seqKey, this.#epochKey, this.#publishedKey)
      return parseSnapshot(await this.client.mget(names), keys.length)
    },
    (result, from, count) => result && sliceRead(result, from, count),
    MAX_READ_ITEMS,
  )

  /**
   * One script per part of at most `batch-limits.ts` entries and bytes, in turn: each part is an
   * atomic check-and-set (superseding entries of each part share that part's fresh sequence).
   */
  async write(
    entries: readonly StoreEntry[],
    options: StoreWriteOptions = {},
  ): Promise<StoreWriteResult> {
    const asOf = options.asOf === undefined ? '' : String(options.asOf)
    const split = parts(entries, entrySize)
    // One part (every `set`): its answer as is, with no loop around it.
    if (split.length === 1) return this.#write(entries, asOf)
    return mergeWrites(await inTurn(split, (part) => this.#write(part, asOf)))
  }

  async #write(entries: readonly StoreEntry[], asOf: string): Promise<StoreWriteResult> {
    const args: string[] = ['w', asOf, String(entries.length)]
    let bytes = 0
    for (const entry of entries) {
      bytes += entrySize(entry)
      args.push(
        entry.key,
        entry.payload,
        JSON.stringify(entry.tags),
        entry.tagStarts === undefined ? '' : JSON.stringify(entry.tagStarts),
        entry.start === undefined ? '' : String(entry.start),
        entry.keyTag ?? '',
        String(Math.max(1, Math.ceil(entry.ttlMs))),
      )
    }
    return writeReply(await this.#steps.send({ args, items: entries.length, bytes }))
  }

  /** {@link Store.check}: `step-batch.ts` `checkInParts`. */
  check(entries: readonly StoreCheckedEntry[]): Promise<StoreWriteResult> {
    return checkInParts(this.#steps, entries)
  }

  /**
   * Writes and invalidations sent in the same tick: one script run, one range of steps, one bus
   * message (`step-batch.ts`).
   */
  readonly #steps = new StepBatch((args, mayRetry) =>
    this.#run(SCRIPTS.steps, [this.origin, ...args], mayRetry).then((reply) => {
      // A failure is retried a second later; nothing depends on one call.
      this.#trim.afterStep(args.length, (error) =>
        this.#logger?.warn(`cachegraph: trimming the records failed: ${String(error)}`),
      )
      return reply
    }),
  )

  /**
   * Trims the records now: one mark, and records below a mark `keepRecords` old, at most
   * `TRIM_BUDGET` examined. A store that writes does this by itself once a second.
   */
  trimRecords(): Promise<TrimResult> {
    return this.#trim.run()
  }

  /**
   * One step of the sequence per part of at most `batch-limits.ts` tags, in turn; resolves with
   * the last once every part is recorded (docs/invalidation.md, "Big invalidations").
   */
  async invalidate(
    tags: readonly string[],
    options: StoreInvalidateOptions = {},
  ): Promise<StoreInvalidateResult> {
    return invalidateInSteps(this.#steps, tags, options)
  }

  acquireLease(key: string, token: string, ttlMs: number): Promise<boolean> {
    return acquireLease(this.client, this.prefix, key, token, ttlMs)
  }

  releaseLease(key: string, token: string): Promise<void> {
    return releaseLease(this.client, this.prefix, key, token)
  }

  async scan(options: StoreScanOptions): Promise<StoreScanPage> {
    return scanNode(
      this.client,
      this.prefix,
      options.match,
      options.cursor ?? '0',
      options.count ?? 100,
    )
  }

  /** Where the store's warning goes: the logger of the (first) cache with one given this store. */
  useLogger(logger: Logger): void {
    this.#logger ??= logger
  }

  async close(): Promise<void> {
    if (this.#ownsClient) await this.client.quit().catch(() => this.client.disconnect())
  }

  /** One script call, one round trip (`mayRetry`: see `runScript`). */
  #run(
    source: (typeof SCRIPTS)[keyof typeof SCRIPTS],
    args: readonly string[],
    mayRetry?: () => boolean,
  ): Promise<unknown> {
    this.#checkPolicy()
    return runScript(this.client, source, [], [this.prefix, ...args], mayRetry)
  }

  /** The eviction policy is checked on first use. */
  #checkPolicy(): void {
    if (this.#policyChecked) return
    this.#policyChecked = true
    void checkEvictionPolicy(this.client, this.#logger)
  }
}

const keyLength = (key: string): number => key.length

/**
 * Creates the Redis shared tier. ioredis is an optional peer dependency: install it.
 *
 * @example
 * import { redisStore } from 'cachegraph/redis'
 * const cache = createCache({ namespace: 'app', store: redisStore({ url: process.env.REDIS_URL, prefix: 'app' }) })
 */
export function redisStore(options: RedisStoreOptions): RedisStore | RedisClusterStore {
  const prefix = options.prefix ?? 'cg'
  const keepRecordsMs = toMs(options.keepRecords ?? '7d', 'keepRecords')
  if (keepRecordsMs < 1_000) {
    throw invalidOption('keepRecords', 'must be at least 1s (or Infinity: keep every record)')
  }
  if ('client' in options) {
    const client = options.client
    return (client as { isCluster?: boolean }).isCluster === true
      ? new RedisClusterStore(client as Cluster, prefix, false, keepRecordsMs)
      : new RedisStore(client as Redis, prefix, false, keepRecordsMs)
  }
  const client = new Redis(options.url, {
    // A cache read must not wait for a reconnect: fail fast and let the loader answer.
    maxRetriesPerRequest: 1,
    commandTimeout: 1_000,
    ...options.redis,
  })
  // Connection errors reach each call as a rejection (and the engine degrades reads to the
  // loader); without a listener ioredis would also print every reconnect attempt.
  client.on('error', () => {})
  return new RedisStore(client, prefix, true, keepRecordsMs)
}
