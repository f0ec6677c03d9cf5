import type { FleetAck } from '../cache/model/fleet-acks.js'
import type { Duration } from '../util/duration.js'
import type { Serializer } from '../cache/serializer.js'
import type { Clock } from '../clock.js'
import type { Bus } from '../bus/bus.js'
import type { Store } from '../stores/store.js'
import type { Logger } from '../warnings.js'

export type { Duration }

/** Options of the in-process memory tier (L1). */
export interface L1Options {
  /**
   * Most entries kept; the least recently used go first.
   * @default 10_000
   */
  maxEntries?: number
  /** Most bytes kept, by the estimate of `sizeOf` (or a built-in estimate). No limit by default. */
  maxBytes?: number
  /** Size of a value in bytes, for `maxBytes`. @default a cheap structural estimate */
  sizeOf?: (value: unknown) => number
  /**
   * Hand out a deep copy (`structuredClone`) on every hit, for callers that mutate what they get.
   * Off by default: the L1 keeps values as they are and hands out shared references.
   * @default false
   */
  clone?: boolean
}

/** Options of {@link createCache}. Every option is checked when the cache is created. */
export interface CacheOptions {
  /**
   * Prefix of every key, and the root of the tag space. `cache.namespace(name)` derives children.
   * Letters, digits, `_`, `-` and `.`.
   * @default 'cg'
   */
  namespace?: string
  /** Default time to live. `0` = do not store; `Infinity` = until `maxLifetime`. @default '5m' */
  ttl?: Duration
  /** The in-process memory tier; `false` turns it off (then a `store` is required). */
  l1?: L1Options | false
  /** Shared tier (L2), e.g. `redisStore({ url })` or `memoryStore()`. */
  store?: Store
  /**
   * Time limits of shared-tier calls: one for all, or per operation. A read that takes longer is
   * a miss (the loader answers); a write that takes longer is not trusted; an invalidation that
   * takes longer rejects with `E_INVALIDATION_NOT_RECORDED` and is queued for replay.
   * @default { read: '50ms', write: '1s', invalidate: '1s' }
   */
  storeTimeout?: Duration | { read?: Duration; write?: Duration; invalidate?: Duration }
  /**
   * Circuit breaker of the shared tier: after `failures` consecutive failed calls it stops calling
   * for `cooldown` (reads go straight to loaders, with no added latency), then lets one probe
   * through. `false` turns it off.
   * @default { failures: 5, cooldown: '1s' }
   */
  breaker?: false | { failures?: number; cooldown?: Duration }
  /**
   * Readers see shared-tier failures (`E_STORE`, `E_TIMEOUT`) instead of a silent fallback to the
   * loader. @default false
   */
  strict?: boolean
  /**
   * Invalidations the store did not record are queued and sent again before the next store call;
   * past this many distinct tags the queue collapses into one invalidation of the whole cache.
   * @default 10_000
   */
  maxReplayTags?: number
  /**
   * Invalidation bus, e.g. `redisBus()`: every process's L1 hears of every invalidation, and a
   * process that may have missed one stops trusting its L1 until it caught up (docs/fleet.md).
   * Needs a `store` it can serve.
   */
  bus?: Bus
  /** How long past expiry `getOrSet` may still serve a value while refreshing it. @default 0 */
  grace?: Duration
  /** Shorten each ttl by a random 0 to `jitter` fraction (0–1), to spread refreshes. @default 0 */
  jitter?: number
  /**
   * Upper bound on any entry's lifetime; `ttl: Infinity` means this. With `grace`, at most the
   * store's `keepRecords` (a Redis store forgets older records: docs/redis.md). @default '1d'
   */
  maxLifetime?: Duration
  /**
   * `false` (or env `CACHEGRAPH_ENABLED=false`) turns caching off: every read goes to its loader,
   * but invalidations still reach the shared store so the rest of the fleet stays fresh.
   * @default true
   */
  enabled?: boolean
  /** Serializer for the shared tier. @default richJson (JSON + Date, Map, Set, BigInt, ...) */
  serializer?: Serializer
  /** Time source. @default the wall clock */
  clock?: Clock
  /**
   * Most tag records this process remembers. Forgetting one is safe (older entries with unknown
   * tags are distrusted), just slower. With a bus every superseding `set` in the fleet adds one,
   * so at W such writes per second an L1 entry is trusted for about `maxTags` / W seconds.
   * @default 100_000
   */
  maxTags?: number
  /** Make `dependsOn` outside a loader throw `E_NO_DEPENDENCY_CONTEXT`. @default false */
  strictDependencies?: boolean
  /**
   * Values larger than this (L1 estimate, or serialized size for the shared tier) are returned
   * but not cached; each such key is reported once as an `error` event (`E_ENTRY_TOO_LARGE`).
   */
  maxEntryBytes?: number
  /**
   * Where the cache logs (pino-compatible: `warn`, `error`, `debug` taking `(object, message)`;
   * `console` works too). Given, every failure reported as an `error` event is also logged at
   * `error` with its `code`, `operation`, `key` and `err`. Without it nothing is logged.
   * @example logger: pino({ name: 'cache' })
   */
  logger?: Logger
}

/** What a loader can adjust about the entry it is computing. */
export interface LoaderContext {
  /** The key being computed (without the namespace prefix). */
  readonly key: string
  /** Overrides the ttl of this entry. */
  setTtl(ttl: Duration): void
  /** Adds tags to this entry (like `dependsOn`; tags are never removed). */
  setTags(...tags: string[]): void
  /** Returns the value to the callers without storing it. */
  skip(): void
  /**
   * Overrides the grace of this entry: how long past its ttl it may still be served while one
   * loader refreshes it.
   */
  setGrace(grace: Duration): void
  /**
   * Aborts when every caller waiting for this load gave up through its own `signal` (a load
   * joined by several callers aborts only once all of them did; one caller without a signal, a
   * caller served a graced value, or a background refresh keeps it going). Pass it on to
   * `fetch`, a database driver, ...
   */
  readonly signal: AbortSignal
}

/** A loader: sync or async. Returning `undefined` means "do not cache". */
export type Loader<T> = (ctx: LoaderContext) => T | Promise<T>

/** Options of `cache.set`. */
export interface SetOptions {
  /** Time to live of this entry. @default the cache's `ttl` */
  ttl?: Duration
  /** Dependency names such as `'user:42'`. */
  tags?: readonly string[]
  /**
   * Token from `await cache.begin()`, taken before reading the data being cached: an
   * invalidation that lands after it makes this write void. Omitted: the write is as of now.
   */
  asOf?: number
}

/** One entry of `setMany`. */
export interface SetManyEntry<T = unknown> extends SetOptions {
  key: string
  value: T
}

/** What a cache was created with, as the layers built on it need it (`cache.settings`). */
export interface CacheSettings {
  /** The default time to live, ms. */
  readonly ttlMs: number
  /** The default grace, ms (0: none). */
  readonly graceMs: number
  /** The bus's `maxSilence`, ms; undefined without a bus. */
  readonly maxSilenceMs: number | undefined
  /** The shared tier's name (`'redis'`, `'memory'`, ...); undefined for an L1-only cache. */
  readonly storeName: string | undefined
  /** The cache's clock (`options.clock`): times of entries are on it. */
  readonly clock: { now(): number }
  /** The cache's `logger`, undefined without one: layers built on the cache log there too. */
  readonly logger: Logger | undefined
}

/** Which loader failures to cache, and for how long. */
export type CacheErrorsOption =
  | ((error: unknown) => boolean)
  | {
      /** Whether this failure is cached. */
      when: (error: unknown) => boolean
      /** How long a cached failure lives. @default '5s' */
      ttl?: Duration
    }

/** Options of `cache.getOrSet`. */
export interface GetOrSetOptions<T> {
  /** Time to live of the entry. `0` = return without storing. @default the cache's `ttl` */
  ttl?: Duration
  /** Tags, or a function of the result returning them (for tags known only after loading). */
  tags?: readonly string[] | ((result: T) => readonly string[])
  /**
   * How long past expiry the value may still be served while one loader refreshes it.
   * @default the cache's `grace`
   */
  grace?: Duration
  /**
   * With a graced value at hand: how long to wait for the loader before serving the graced value
   * (the load goes on in the background). `0` = stale-while-revalidate.
   * @default 0
   */
  timeout?: Duration
  /** Reject with `E_TIMEOUT` when no value is available after this long. @default none */
  hardTimeout?: Duration
  /**
   * Entries written under another version are ignored (a deploy that changes a value's shape).
   */
  version?: string | number
  /** Cache chosen loader failures: hits rethrow them. By default no failure is cached. */
  cacheErrors?: CacheErrorsOption
  /**
   * `'session'`: the entry is private to the current `cache.session()` (L1 only, dropped when the
   * session ends; `E_NO_SESSION` outside one). Entries built from it are session-scoped too.
   * @default 'global'
   */
  scope?: 'global' | 'session'
  /**
   * This caller stops waiting when the signal aborts; the shared load goes on for the others.
   * The loader sees it as `ctx.signal`, which aborts once every caller of the load aborted.
   */
  signal?: AbortSignal
  /**
   * Refresh a hot entry before it expires: a hit from L1 past this fraction of the entry's ttl
   * starts one background reload of the key (single-flighted; the hit is answered at once), whose
   * result is stored under the usual rules — never over an invalidation that came after the
   * reload began. Between 0 and 1 (excluded), e.g. `0.8`: a hit in the last 20 % of the ttl.
   * bentocache calls it early expiration, cache-manager a `refreshThreshold`.
   * @default none
   */
  earlyRefresh?: number
  /**
   * With a shared store: one process at a time computes this key (a lease in the store); the
   * others wait for its value, up to `wait`, then compute it themselves. A lease nobody releases
   * (a crashed process) ends after `ttl`. `true` = `{ wait: '5s', ttl: '10s' }`.
   * @default false
   */
  lock?: boolean | { wait?: Duration; ttl?: Duration }
}

/** An entry as `cache.inspect()` shows it. */
export interface EntryInfo {
  key: string
  tier: 'l1' | 'l2'
  tags: readonly string[]
  /** Milliseconds of ttl left (negative when expired and kept for grace). */
  ttl: number
  createdAt: number
  expiresAt: number
  /** The sequence the value is "as of". */
  start: number
  /** `valid`, `stale` (soft-invalidated) or `invalid`. */
  status: 'valid' | 'stale' | 'invalid'
  /**
   * The length of the serialized payload the shared tier holds (read from it when the entry is in
   * L1 too; bytes for ASCII text), or the L1's estimate in bytes without a shared tier.
   */
  size: number | undefined
}

/** What `invalidate()` resolves to. */
export interface InvalidationResult {
  tags: readonly string[]
  /** The sequence number the invalidation was recorded at. */
  seq: number
  /**
   * With `{ ack: true }` and a bus: how the other processes acknowledged it. Once `invalidate()`
   * resolved, every process with a bus on the store either acknowledged (it applied the
   * invalidation) or is in `late` — and has stopped serving from its L1 (docs/fleet.md).
   */
  fleet?: FleetAck
}
