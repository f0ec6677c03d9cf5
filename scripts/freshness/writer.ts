/**
 * A writer process's work: commit `version + 1` of a random row and invalidate it — by
 * `await cache.invalidate()`, by a `PATCH` to the process's own app (whose adapter commits and
 * invalidates before it answers), or through the invalidation service with the client (queued,
 * not awaited: resolved when the service answered for it, see service-writes.ts) — and note the
 * moment that resolved. From that moment
 * on, no read anywhere may return an older version
 * (except the L1 allowance, see ledger.ts) — and this process's own next read of the row not
 * even that: the invalidating process gets no allowance at all.
 *
 * Resolved writes go to the coordinator in small batches, each with a mark: every write of this
 * writer that resolves later is stamped after the mark, so the readers know when their log of
 * writes is complete up to a given time.
 *
 * During an outage `invalidate()` may reject with `E_INVALIDATION_NOT_RECORDED`: the writer was
 * told, so that is no caller error, and the writer retries nothing — the library replays the
 * invalidation once the store answers. Until then the write is not in the log (no read is
 * judged against it); it enters the log, as resolved, when the cache's replay queue drained.
 * The writer's own read right after is judged all the same: a rejected invalidation has been
 * applied in this process before the rejection (docs/faults.md), so it must not see the old row.
 * A write through the service is not: the service's process invalidated, and this process's L1
 * hears of it over the bus like any other (the readers judge that).
 */
import { setTimeout as sleep } from 'node:timers/promises'

import type { InvalidationClient } from '../../src/client/index.js'
import type { Cache } from '../../src/index.js'
import type * as PostgresEntry from '../../src/postgres/index.js'
import type { SharedClock } from './clock.js'
import { type Database, PG_URL } from './database.js'
import type { Ledger } from './ledger.js'
import type { ReadPath } from './outcome.js'
import { type Model, pickRow } from './model.js'
import type { CallerOp, FromWorker, NotRecorded, WritePath, WriteRecord } from './protocol.js'
import { readRow } from './reader.js'
import { type Committed, writeThroughCache } from './cache-writes.js'
import { callRow, type RowsApp } from './rows-app.js'
import { Samples } from './samples.js'
import { ServiceWrites } from './service-writes.js'
import { SourceWrites } from './source-writes.js'
import type { Tracer } from './trace.js'

export interface WriterContext {
  cache: Cache
  model: Model
  db: Database
  ledger: Ledger
  clock: SharedClock
  tracer: Tracer
  /** The process's app server (the `http` write path). */
  app: RowsApp
  /** The client of the invalidation service (the `service` write path). */
  client: InvalidationClient | undefined
  /** `cachegraph/postgres`, for the `source` write path (a capture of `table`). */
  postgres: typeof PostgresEntry | undefined
  /** The rows table (PostgreSQL). */
  table: string
  /** The paths writes take, one chosen at random per write. */
  writePaths: readonly WritePath[]
  /** API writes invalidate with `{ ack: true }`. */
  ack: boolean
  rows: number
  /**
   * With the `set` path: this writer is the only one writing the rows `row % writers === index`.
   * Writing a row and then `set`ting the version written races another writer of the same row
   * (the older `set` may land last, which no cache can tell from a real change): an application
   * that writes through serializes its writes per key, and so does this checker.
   */
  owner: { index: number; writers: number } | undefined
  writeRate: number
  /** Loops of background reads (not judged): a writer process serves traffic too. */
  backgroundReads: number
  send(message: FromWorker): void
  onError: (error: unknown, op: CallerOp) => void
  /** Notes a step on the process's timeline (evidence for a forbidden read). */
  note: (what: string) => void
}

const FLUSH_EVERY_MS = 20
/** How often a writer with rejected invalidations looks at its cache's replay queue. */
const REPLAY_POLL_MS = 2
/** At the end, how long a writer keeps its replay queue draining (store calls) before giving up. */
const DRAIN_WAIT_MS = 5_000
/** Pause between background reads, ms. */
const BACKGROUND_GAP_MS = 1

/** A write whose `invalidate()` rejected with `E_INVALIDATION_NOT_RECORDED`. */
interface Rejected {
  row: number
  version: number
  rejectedAt: number
  via: WritePath
}

export class Writer {
  readonly #ctx: WriterContext
  #batch: WriteRecord[] = []
  #loop: Promise<void> | undefined
  readonly #background: Promise<void>[] = []
  #timer: NodeJS.Timeout | undefined
  #replayTimer: NodeJS.Timeout | undefined
  #stopped = false
  /** Rejected invalidations whose replay has not happened yet. */
  #rejected: Rejected[] = []
  readonly #replayDelay = new Samples()
  readonly #notRecorded = { rejected: 0, replayed: 0, unresolved: 0 }
  writes = 0
  /** Writes the whole fleet acknowledged (with `ack`). */
  ackedWrites = 0
  readonly writesVia: Record<WritePath, number> = {
    api: 0,
    http: 0,
    service: 0,
    source: 0,
    set: 0,
    delete: 0,
  }
  /** Writes committed to PostgreSQL alone, until the change capture recorded them. */
  readonly #sourceWrites: SourceWrites | undefined
  /** Writes whose invalidation went to the service's client, until the service answers. */
  readonly #serviceWrites: ServiceWrites | undefined
  /** Requests to the service that failed and were retried (503 while its store was out, ...). */
  serviceRetries = 0
  backgroundReadCount = 0

  constructor(ctx: WriterContext) {
    this.#ctx = ctx
    if (ctx.client !== undefined) {
      this.#serviceWrites = new ServiceWrites(ctx.client, {
        resolved: (row, version, seq, acked) => {
          ctx.note(`invalidate row:${row} v${version} answered by the service: seq ${seq}`)
          if (acked) this.ackedWrites++
          this.#batch.push({
            row,
            version,
            seq,
            resolvedAt: ctx.clock.now(),
            via: 'service',
            acked,
          })
        },
        // A lost invalidation is an error the caller sees (the client reports it as dropped).
        lost: (error) => ctx.onError(error, 'service'),
      })
    }
    ctx.client?.on('retry', () => void this.serviceRetries++)
    if (ctx.postgres !== undefined) {
      this.#sourceWrites = new SourceWrites(
        ctx.postgres,
        ctx.cache,
        PG_URL,
        ctx.table,
        () => ctx.clock.now(),
        {
          resolved: (row, version, seq) => {
            ctx.note(`change capture recorded row:${row} v${version}: seq ${seq}`)
            this.#batch.push({ row, version, seq, resolvedAt: ctx.clock.now(), via: 'source' })
          },
        },
      )
    }
  }

  /** Starts the change capture of source writes: what commits from then on is captured. */
  async prepare(): Promise<void> {
    await this.#sourceWrites?.start()
  }

  /** Commit-to-recorded times of source writes. */
  get captureLag() {
    return this.#sourceWrites?.lag.toJSON()
  }

  get notRecorded(): NotRecorded {
    return {
      ...this.#notRecorded,
      serviceRetries: this.serviceRetries,
      replayDelay: this.#replayDelay.toJSON(),
    }
  }

  start(): void {
    this.#timer = setInterval(() => this.#flush(false), FLUSH_EVERY_MS)
    this.#replayTimer = setInterval(() => this.#checkReplay(), REPLAY_POLL_MS)
    this.#loop = this.#run()
    for (let i = 0; i < this.#ctx.backgroundReads; i++) this.#background.push(this.#readLoop())
  }

  /**
   * Finishes the write in flight, lets the replay queue drain (the library sends it before its
   * next store call: a read of a key no L1 holds makes one), and sends the last batch.
   */
  async stop(): Promise<void> {
    this.#stopped = true
    await this.#loop
    await Promise.all(this.#background)
    const unanswered = (await this.#serviceWrites?.drain()) ?? 0
    if (unanswered > 0) {
      this.#ctx.onError(new Error(`${unanswered} writes never answered by the service`), 'service')
    }
    const uncaptured = (await this.#sourceWrites?.drain(DRAIN_WAIT_MS)) ?? 0
    if (uncaptured > 0) {
      this.#ctx.onError(new Error(`${uncaptured} writes never captured`), 'invalidate')
    }
    const until = Date.now() + DRAIN_WAIT_MS
    while (this.#rejected.length > 0 && Date.now() < until) {
      await this.#ctx.cache.get(`drain-probe-${Math.random()}`).catch(() => {})
      this.#checkReplay()
      if (this.#rejected.length > 0) await sleep(20)
    }
    this.#notRecorded.unresolved = this.#rejected.length
    clearInterval(this.#replayTimer)
    clearInterval(this.#timer)
    this.#flush(true)
  }

  #flush(done: boolean): void {
    const writes = this.#batch
    this.#batch = []
    this.#ctx.send({ type: 'writes', writes, mark: done ? Infinity : this.#ctx.clock.now(), done })
  }

  /**
   * The library replays rejected invalidations by itself; once the queue is empty, every write
   * rejected so far has had its invalidation recorded by the store: it counts as resolved from
   * now on (stamped after the fact, which can only hide a stale read, never invent one).
   */
  #checkReplay(): void {
    if (this.#rejected.length === 0 || this.#ctx.cache.stats().l2.replayQueue !== 0) return
    const resolvedAt = this.#ctx.clock.now()
    this.#ctx.note(
      `replay queue drained: ${this.#rejected.map((r) => `row:${r.row} v${r.version}`).join(', ')} resolved`,
    )
    for (const r of this.#rejected) {
      this.#batch.push({
        row: r.row,
        version: r.version,
        seq: -1,
        resolvedAt,
        replayed: true,
        via: r.via,
      })
      this.#replayDelay.add(resolvedAt - r.rejectedAt)
      this.#notRecorded.replayed++
    }
    this.#rejected = []
  }

  async #run(): Promise<void> {
    // Poisson arrivals: bursts and lulls, as real writes come.
    const meanGapMs = 1000 / this.#ctx.writeRate
    while (!this.#stopped) {
      await this.#writeOnce()
      await sleep(-Math.log(1 - Math.random()) * meanGapMs)
    }
  }

  /**
   * Reads of random pairs, not judged (this process does not get the write log), so that in an
   * outage the writer's cache sees what a busy process sees: read timeouts open its circuit,
   * and its invalidations are then refused at once (E_INVALIDATION_NOT_RECORDED) and replayed.
   * Pairs, because they live briefly: most of these reads ask the shared tier.
   */
  async #readLoop(): Promise<void> {
    const { model, rows, onError } = this.#ctx
    while (!this.#stopped) {
      try {
        const a = pickRow(rows)
        await model.getPair(a, (a + 1 + Math.floor(Math.random() * (rows - 1))) % rows)
        this.backgroundReadCount++
      } catch (error) {
        onError(error, 'read')
      }
      await sleep(BACKGROUND_GAP_MS)
    }
  }

  async #writeOnce(): Promise<void> {
    const { writePaths, clock, note } = this.#ctx
    const id = this.#pick()
    const via = writePaths[Math.floor(Math.random() * writePaths.length)] as WritePath
    let write
    try {
      write = await this.#write(id, via)
    } catch (error) {
      return this.#ctx.onError(error, via === 'http' ? 'http-write' : 'db-write')
    }
    if (write === undefined) return
    const { version, invalidated } = write
    note(`write row:${id} v${version} committed (${via})`)
    const resolvedAt = clock.now()
    if (invalidated === undefined) return // reported already
    if (invalidated === 'queued') {
      // Through the service: counted now, judged once the service answered for it.
      this.writes++
      this.writesVia[via]++
      return
    }
    if ('seq' in invalidated) {
      note(`invalidate row:${id} resolved (${via}): seq ${invalidated.seq}`)
      const acked = invalidated.acked === true
      if (acked) this.ackedWrites++
      this.#batch.push({ row: id, version, seq: invalidated.seq, resolvedAt, via, acked })
    } else {
      // Not a caller error: the writer was told. The library queued it for replay (and applied
      // it in this process already: the read below must be fresh all the same).
      note(`invalidate row:${id} rejected (${via}): ${invalidated.notRecorded}`)
      this.#notRecorded.rejected++
      this.#rejected.push({ row: id, version, rejectedAt: resolvedAt, via })
    }
    this.writes++
    this.writesVia[via]++
    if (via !== 'service') await this.#readOwnWrite(id, version, resolvedAt, via)
  }

  /** A row to write: any, or with the `set` path one of this writer's own (hot ones included). */
  #pick(): number {
    const { rows, owner } = this.#ctx
    const row = pickRow(rows)
    if (owner === undefined || owner.writers >= rows) return row
    const own = row - (row % owner.writers) + owner.index
    return own < rows ? own : own - owner.writers
  }

  /** Commits the row's next version and invalidates it by `via`; `undefined`: it failed (reported). */
  async #write(id: number, via: WritePath): Promise<Committed | undefined> {
    const { db, tracer, app } = this.#ctx
    switch (via) {
      case 'api':
      case 'delete':
      case 'set':
        return writeThroughCache(this.#ctx, id, via)
      case 'http': {
        // The adapter answers 200 also when the store did not record the invalidation: it
        // reports that to `onError`, which marks the trace (rows-app.ts).
        const { value, trace } = await tracer.request((headers) =>
          callRow(app, 'PATCH', id, headers),
        )
        if (trace.failed !== undefined) {
          const message =
            trace.failed instanceof Error ? trace.failed.message : 'the store did not record it'
          return { version: value.version, invalidated: { notRecorded: message } }
        }
        return { version: value.version, invalidated: { seq: trace.seq ?? -1 } }
      }
      case 'service': {
        const version = await db.bump(id)
        this.#serviceWrites!.send(id, version)
        return { version, invalidated: 'queued' }
      }
      case 'source': {
        // No invalidate(): the change capture does it (source-writes.ts).
        const { version, txid } = await db.bumpTx!(id)
        this.#sourceWrites!.committed(id, version, txid, this.#ctx.clock.now())
        return { version, invalidated: 'queued' }
      }
    }
  }

  /** The writer reads its own write, where it wrote it (function or route): it must be fresh. */
  async #readOwnWrite(id: number, version: number, resolvedAt: number, via: WritePath) {
    const { clock, ledger, onError, note } = this.#ctx
    const path: ReadPath = via === 'http' ? 'http' : 'function'
    const startedAt = clock.now()
    let read
    try {
      read = await readRow(id, path, this.#ctx)
    } catch (error) {
      return onError(error, 'own-read')
    }
    const { row, source } = read
    if (row.version >= version) return ledger.ownFresh(path)
    note(
      `own read of row:${id} (began ${startedAt.toFixed(1)}) got v${row.version} from ${source} (${path})`,
    )
    ledger.ownStale({
      row: id,
      got: row.version,
      expected: version,
      source,
      pair: false,
      via: path,
      lagMs: startedAt - resolvedAt,
      afterBusMs: undefined,
      startedAt,
      resolvedAt,
    })
  }
}
