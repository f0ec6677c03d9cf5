/**
 * A writer process's work: commit `version + 1` of a random row, `await cache.invalidate()`, and
 * note the moment it resolved. From that moment on, no read anywhere may return an older version
 * (except the L1 allowance, see ledger.ts) — and this process's own next read of the row not
 * even that: the invalidating process gets no allowance at all.
 *
 * Resolved writes go to the coordinator in small batches, each with a mark: every write of this
 * writer that resolves later is stamped after the mark, so the readers know when their log of
 * writes is complete up to a given time.
 */
import { setTimeout as sleep } from 'node:timers/promises'

import type { Cache } from '../../src/index.js'
import type { SharedClock } from './clock.js'
import type { Database } from './database.js'
import type { Ledger } from './ledger.js'
import type { Source } from './outcome.js'
import { type Model, pickRow } from './model.js'
import type { FromWorker, WriteRecord } from './protocol.js'

export interface WriterContext {
  cache: Cache
  model: Model
  db: Database
  ledger: Ledger
  clock: SharedClock
  rows: number
  writeRate: number
  send(message: FromWorker): void
  onError(error: unknown): void
}

const FLUSH_EVERY_MS = 20

export class Writer {
  readonly #ctx: WriterContext
  #batch: WriteRecord[] = []
  #loop: Promise<void> | undefined
  #timer: NodeJS.Timeout | undefined
  #stopped = false
  writes = 0

  /** Where the read in progress got its row (one read at a time here). */
  #source: Source = 'flight'

  constructor(ctx: WriterContext) {
    this.#ctx = ctx
    ctx.cache.on('hit', ({ tier }) => void (this.#source = tier))
    ctx.cache.on('miss', () => void (this.#source = 'loader'))
  }

  start(): void {
    this.#timer = setInterval(() => this.#flush(false), FLUSH_EVERY_MS)
    this.#loop = this.#run()
  }

  /** Finishes the write in flight and sends the last batch. */
  async stop(): Promise<void> {
    this.#stopped = true
    await this.#loop
    clearInterval(this.#timer)
    this.#flush(true)
  }

  #flush(done: boolean): void {
    const writes = this.#batch
    this.#batch = []
    this.#ctx.send({ type: 'writes', writes, mark: done ? Infinity : this.#ctx.clock.now(), done })
  }

  async #run(): Promise<void> {
    // Poisson arrivals: bursts and lulls, as real writes come.
    const meanGapMs = 1000 / this.#ctx.writeRate
    while (!this.#stopped) {
      try {
        await this.#writeOnce()
      } catch (error) {
        this.#ctx.onError(error)
      }
      await sleep(-Math.log(1 - Math.random()) * meanGapMs)
    }
  }

  async #writeOnce(): Promise<void> {
    const { cache, db, model, clock, ledger } = this.#ctx
    const id = pickRow(this.#ctx.rows)
    const version = await db.bump(id)
    const { seq } = await cache.invalidate(`row:${id}`)
    const resolvedAt = clock.now()
    this.#batch.push({ row: id, version, seq, resolvedAt })
    this.writes++
    const startedAt = clock.now()
    this.#source = 'flight'
    const row = await model.getRow(id)
    if (row.version >= version) return ledger.ownFresh()
    ledger.ownStale({
      row: id,
      got: row.version,
      expected: version,
      source: this.#source,
      pair: false,
      lagMs: startedAt - resolvedAt,
      afterBusMs: undefined,
    })
  }
}
