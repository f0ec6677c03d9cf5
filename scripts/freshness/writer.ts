/**
 * A writer process's work: commit `version + 1` of a random row, `await cache.invalidate()`, and
 * note the moment it resolved. From that moment on, no read anywhere may return an older version
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
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { setTimeout as sleep } from 'node:timers/promises'

import type { Cache } from '../../src/index.js'
import type { SharedClock } from './clock.js'
import type { Database } from './database.js'
import type { Ledger } from './ledger.js'
import type { Source } from './outcome.js'
import { type Model, pickRow } from './model.js'
import type { CallerOp, FromWorker, NotRecorded, WriteRecord } from './protocol.js'
import { Samples } from './samples.js'

export interface WriterContext {
  cache: Cache
  model: Model
  db: Database
  ledger: Ledger
  clock: SharedClock
  rows: number
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
}

export const isNotRecorded = (error: unknown): boolean =>
  typeof error === 'object' &&
  error !== null &&
  (error as { code?: unknown }).code === 'E_INVALIDATION_NOT_RECORDED'

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

  /** Where the writer's read of its own write got its row (from the cache's events). */
  readonly #trace = new AsyncLocalStorage<{ source: Source }>()
  backgroundReadCount = 0

  constructor(ctx: WriterContext) {
    this.#ctx = ctx
    ctx.cache.on('hit', ({ tier }) => {
      const trace = this.#trace.getStore()
      if (trace !== undefined) trace.source = tier
    })
    ctx.cache.on('miss', () => {
      const trace = this.#trace.getStore()
      if (trace !== undefined) trace.source = 'loader'
    })
  }

  get notRecorded(): NotRecorded {
    return { ...this.#notRecorded, replayDelay: this.#replayDelay.toJSON() }
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
      this.#batch.push({ row: r.row, version: r.version, seq: -1, resolvedAt, replayed: true })
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
    const { cache, db, model, clock, ledger, onError, note } = this.#ctx
    const id = pickRow(this.#ctx.rows)
    let version: number
    try {
      version = await db.bump(id)
    } catch (error) {
      return onError(error, 'db-write')
    }
    note(`write row:${id} v${version} committed`)
    let resolvedAt: number
    try {
      const { seq } = await cache.invalidate(`row:${id}`)
      resolvedAt = clock.now()
      note(`invalidate row:${id} resolved: seq ${seq}`)
      this.#batch.push({ row: id, version, seq, resolvedAt })
    } catch (error) {
      // Not a caller error: the writer was told. The library queued it for replay (and applied
      // it in this process already: the read below must be fresh all the same).
      if (!isNotRecorded(error)) return onError(error, 'invalidate')
      resolvedAt = clock.now()
      note(`invalidate row:${id} rejected: ${(error as Error).message}`)
      this.#notRecorded.rejected++
      this.#rejected.push({ row: id, version, rejectedAt: resolvedAt })
    }
    this.writes++
    const startedAt = clock.now()
    const trace: { source: Source } = { source: 'flight' }
    let row
    try {
      row = await this.#trace.run(trace, () => model.getRow(id))
    } catch (error) {
      return onError(error, 'own-read')
    }
    if (row.version >= version) return ledger.ownFresh()
    note(
      `own read of row:${id} (began ${startedAt.toFixed(1)}) got v${row.version} from ${trace.source}`,
    )
    ledger.ownStale({
      row: id,
      got: row.version,
      expected: version,
      source: trace.source,
      pair: false,
      lagMs: startedAt - resolvedAt,
      afterBusMs: undefined,
      startedAt,
      resolvedAt,
    })
  }
}
