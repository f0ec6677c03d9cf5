/**
 * What the coordinator and its worker processes say to each other over the IPC channel of
 * `child_process.fork`. Reads stay in the reader that made them (there are far too many to
 * ship); what travels is the small log of committed writes and, at the end, each process's tally.
 */
import type { LibraryModules } from './library.js'
import type { Outcome } from './outcome.js'
import type { Framework } from './rows-app.js'
import type { SampleSet } from './samples.js'

export type DbKind = 'postgres' | 'redis'

/**
 * How a write's invalidation went out: `cache.invalidate()` in the writer (`api`), a `PATCH` to
 * the writer's own app whose adapter invalidates (`http`), or the invalidation service, told by
 * the fire-and-forget client (`service`).
 */
export const WRITE_PATHS = ['api', 'http', 'service', 'source', 'set', 'delete'] as const
export type WritePath = (typeof WRITE_PATHS)[number]

/** Everything a worker needs, passed as its first argument (JSON). */
export interface WorkerConfig {
  /** `service`: the invalidation service of the fleet (writers reach it with the client). */
  role: 'reader' | 'writer' | 'service'
  index: number
  /**
   * Whether the cache has a bus. A reader without one stands for a process that shares the store
   * but not the bus (a cron job, a misconfigured service): its own L1 may be stale until ttl, as
   * documented, but nothing it writes to the shared tier may make another process's read stale.
   */
  bus: boolean
  /** `cachegraph` module specifiers: the package itself, or a patched copy (`--break`). */
  library: LibraryModules
  /** The framework of the process's app server (rows-app.ts). */
  framework: Framework
  /** Share of a reader's reads that go through its app's cached route rather than the function. */
  httpShare: number
  /** The paths a writer's invalidations take, chosen at random per write. */
  writePaths: WritePath[]
  /** Writers invalidate through the API with `{ ack: true }` (acknowledged by the fleet). */
  ack: boolean
  /** The invalidation service's URL (`service` among the write paths), else `undefined`. */
  serviceUrl: string | undefined
  /** The `service` role's port: 0 at first, then the same one when the service is restarted. */
  servicePort?: number
  /** The caches' Redis (store and bus); through the run's proxy when there are Redis faults. */
  redisUrl: string
  /** The database's Redis with `db.kind === 'redis'`: never through the proxy, never restarted. */
  dbRedisUrl: string
  /** The run's unique key prefix: cache store, database keys and bus all live under it. */
  prefix: string
  db: { kind: DbKind; table: string }
  rows: number
  /** Writer processes: with the `set` path each owns the rows `row % writers === index`. */
  writers: number
  /** Top-level reads in flight per reader. */
  concurrency: number
  /** Per writer, writes per second. */
  writeRate: number
  /** Per writer, loops of background reads (not judged). */
  writerReads: number
  /** Upper bound of the random delay a loader adds after reading the database, in ms. */
  loaderDelayMs: number
  maxSilenceMs: number
  /** A stale L1 read that begins this long after the bus delivered the invalidation is forbidden. */
  busSlackMs: number
  /** The shared clock's epoch (see clock.ts). */
  epoch: string
}

/**
 * One committed write whose invalidation resolved at `resolvedAt` (shared clock): when its
 * `invalidate()` resolved, or — when it rejected with `E_INVALIDATION_NOT_RECORDED` — when the
 * writer's cache had sent its replay queue to the store (`replayed`).
 */
export interface WriteRecord {
  row: number
  version: number
  /**
   * The sequence `invalidate()` resolved to: matches the bus message that carries it. -1 for a
   * replayed invalidation (the replay's sequence is not reported): no bus receipt is known then.
   */
  seq: number
  resolvedAt: number
  replayed?: boolean
  via: WritePath
  /**
   * Invalidated with `{ ack: true }` and every other process with a bus acknowledged it: from
   * `resolvedAt` on, no process with a bus may serve an older version, not even from its L1.
   */
  acked?: boolean
}

/** What a caller was doing when it saw an error. */
export type CallerOp = 'read' | 'own-read' | 'db-write' | 'http-write' | 'invalidate' | 'service'

/** Caller-visible failures: a read or a write that rejected. */
export interface CallerError {
  role: WorkerConfig['role']
  index: number
  op: CallerOp
  /** `CacheError` code, else the error's name. */
  code: string
  message: string
}

/** A writer's invalidations that the store did not record at first. */
export interface NotRecorded {
  /** `invalidate()` rejected with `E_INVALIDATION_NOT_RECORDED` (expected during outages). */
  rejected: number
  /** ... and then resolved: the writer's replay queue drained. */
  replayed: number
  /** ... and never resolved before the writer stopped (its replay queue never drained). */
  unresolved: number
  /** Requests of the writer's client to the service that failed and were retried (e.g. a 503). */
  serviceRetries: number
  /** From rejection to the drained replay queue, ms. */
  replayDelay: SampleSet
}

/** What a worker knows of its bus, from the cache's `bus:*` events. */
export interface BusTally {
  distrusted: Record<string, number>
  trusted: number
  syncs: number
  startedOver: number
  storeResets: number
  /** Steps made up from the store's log after a gap (`stats().bus.replayed`). */
  replayedSteps: number
  /** Times the shared tier's circuit breaker opened. */
  circuitOpens: number
  /** `error` events of the cache (not seen by callers; e.g. a killed bus connection). */
  cacheErrors: number
  firstCacheError?: string
}

export interface WorkerResult {
  role: WorkerConfig['role']
  index: number
  pid: number
  /** Top-level calls (a row, or a pair of rows). */
  reads: number
  /** ... of which through the app's cached route. */
  httpReads: number
  /** A writer's writes whose invalidation every other process acknowledged (`--ack`). */
  ackedWrites: number
  /** A writer's writes by the path their invalidation took. */
  writesVia: Record<WritePath, number>
  outcome: Outcome
  /** Propagation: writer's resolve time to this process's receipt on the bus tap, in ms. */
  propagation: SampleSet
  /** A writer's source writes: commit to the capture's recorded invalidation, in ms. */
  captureLag?: SampleSet
  /** Writes whose bus message the tap never saw (it was reconnecting, or the format changed). */
  unheard: number
  writes: number
  /** A writer's background reads (not judged). */
  backgroundReads: number
  /** A few examples of the errors callers saw (`E_INVALIDATION_NOT_RECORDED` not included). */
  errors: CallerError[]
  errorCount: number
  /** Caller errors by `<op> <code>` (`E_INVALIDATION_NOT_RECORDED` not included). */
  errorKinds: Record<string, number>
  notRecorded: NotRecorded
  bus: BusTally
  /** Event-loop delay of the process, in ms: a busy loop delays bus messages and skews times. */
  loopDelay: { p99: number; max: number }
}

export type ToWorker =
  | { type: 'go' }
  | { type: 'stop' }
  /** The slow-loaders fault: every loader takes `extraMs` longer from now on (0: normal). */
  | { type: 'slow'; extraMs: number }
  /** Writes resolved before `watermark` are all in this or an earlier batch. */
  | { type: 'writes'; writes: WriteRecord[]; watermark: number }

export type FromWorker =
  /** `url`: the service's, from the `service` role. */
  | { type: 'ready'; pid: number; url?: string }
  /** A writer's new writes; none it makes later resolves before `mark`. `done`: its last batch. */
  | { type: 'writes'; writes: WriteRecord[]; mark: number; done: boolean }
  | { type: 'result'; result: WorkerResult }
  /** A reader or writer judged its first forbidden stale read (for `--until forbidden`). */
  | { type: 'forbidden' }
  | { type: 'fatal'; message: string }
