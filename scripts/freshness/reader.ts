/**
 * A reader process's work: `concurrency` loops of reads (a row, or a pair of rows), each noting
 * when it began and where every row value came from, kept until the write log is complete up to
 * that moment (the coordinator's watermark) and then judged by the ledger.
 *
 * Where a value came from is read off the cache's own events: an L1 hit emits `hit` (tier 'l1')
 * synchronously inside the call, a shared-tier hit emits `hit` (tier 'l2') and a load emits
 * `miss` inside the flight the call started. An AsyncLocalStorage of our own ties each event to
 * the read it happened in (the events run in the caller's async context). A call that saw no
 * event for its key joined a load another read of this process had started (`flight`).
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { setImmediate as nextTurn } from 'node:timers/promises'

import type { Cache } from '../../src/index.js'
import type { BusWatch } from './bus-watch.js'
import type { SharedClock } from './clock.js'
import type { Ledger } from './ledger.js'
import type { Observation, Source } from './outcome.js'
import { type Model, pickRow, type Row } from './model.js'
import type { WriteRecord } from './protocol.js'

export interface ReaderContext {
  cache: Cache
  model: Model
  ledger: Ledger
  clock: SharedClock
  bus: BusWatch
  rows: number
  concurrency: number
  /** Share of reads that ask for a pair rather than a row. */
  pairShare: number
  onError(error: unknown): void
}

/** Sources of the keys touched by one read. */
type Trace = Map<string, Source>

export class Reader {
  readonly #ctx: ReaderContext
  readonly #traces = new AsyncLocalStorage<Trace>()
  readonly #loops: Promise<void>[] = []
  #pending: Observation[] = []
  #watermark = -Infinity
  #stopped = false
  reads = 0

  constructor(ctx: ReaderContext) {
    this.#ctx = ctx
    ctx.cache.on('hit', ({ key, tier }) => {
      const source: Source = tier === 'l2' ? 'l2' : ctx.bus.trusted ? 'l1' : 'l1-distrusted'
      this.#traces.getStore()?.set(key, source)
    })
    ctx.cache.on('miss', ({ key }) => this.#traces.getStore()?.set(key, 'loader'))
  }

  start(): void {
    for (let i = 0; i < this.#ctx.concurrency; i++) this.#loops.push(this.#loop())
  }

  async stop(): Promise<void> {
    this.#stopped = true
    await Promise.all(this.#loops)
  }

  /** New writes; every write resolved before `watermark` is now known. */
  receive(writes: readonly WriteRecord[], watermark: number): void {
    for (const write of writes) this.#ctx.ledger.add(write)
    this.#watermark = watermark
    const waiting: Observation[] = []
    for (const o of this.#pending) {
      if (o.startedAt <= watermark) this.#ctx.ledger.judge(o)
      else waiting.push(o)
    }
    this.#pending = waiting
  }

  /** Observations not judged yet (a final watermark never came). */
  get unjudged(): number {
    return this.#pending.length
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      try {
        await this.#readOnce()
      } catch (error) {
        this.#ctx.onError(error)
      }
      // Yield to I/O between reads, as a server does between requests: bus messages are
      // handled between turns, and a loop of synchronous L1 hits must not starve them.
      await nextTurn()
    }
  }

  async #readOnce(): Promise<void> {
    const { model, clock, rows } = this.#ctx
    const trace: Trace = new Map()
    const a = pickRow(rows)
    this.reads++
    if (Math.random() >= this.#ctx.pairShare || rows < 2) {
      const startedAt = clock.now()
      const row = await this.#traces.run(trace, () => model.getRow(a))
      this.#observe(a, row, trace.get(model.rowKey(a)) ?? 'flight', startedAt, false)
      return
    }
    let b = pickRow(rows)
    while (b === a) b = pickRow(rows)
    const startedAt = clock.now()
    const pair = await this.#traces.run(trace, () => model.getPair(a, b))
    const outer = trace.get(model.pairKey(a, b)) ?? 'flight'
    // A pair that was loaded here is as fresh as the rows it was built from, wherever they came from.
    const inner = (id: number) =>
      outer === 'loader' ? (trace.get(model.rowKey(id)) ?? 'flight') : outer
    this.#observe(a, pair.a, inner(a), startedAt, true)
    this.#observe(b, pair.b, inner(b), startedAt, true)
  }

  #observe(id: number, row: Row, source: Source, startedAt: number, pair: boolean): void {
    if (row.id !== id) throw new Error(`freshness: asked for row ${id}, got row ${row.id}`)
    const o: Observation = { row: id, version: row.version, source, startedAt, pair }
    if (startedAt <= this.#watermark) this.#ctx.ledger.judge(o)
    else this.#pending.push(o)
  }
}
