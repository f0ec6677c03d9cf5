/**
 * A reader process's work: `concurrency` loops of reads — a row or a pair of rows through the
 * cached functions, or a row through the process's app (`GET /rows/:id`, a cached route) — each
 * noting when it began and where every row value came from (trace.ts), kept until the write log
 * is complete up to that moment (the coordinator's watermark) and then judged by the ledger.
 */
import { setImmediate as nextTurn } from 'node:timers/promises'

import type { SharedClock } from './clock.js'
import type { Ledger } from './ledger.js'
import type { Observation, ReadPath, Source } from './outcome.js'
import { type Model, pickRow, type Row } from './model.js'
import type { WriteRecord } from './protocol.js'
import { callRow, type RowsApp } from './rows-app.js'
import type { Trace, Tracer } from './trace.js'

export interface ReaderContext {
  model: Model
  ledger: Ledger
  clock: SharedClock
  tracer: Tracer
  /** The process's app server. */
  app: RowsApp
  rows: number
  concurrency: number
  /** Share of reads that ask for a pair rather than a row (of those not through the app). */
  pairShare: number
  /** Share of reads that go through the app's cached route. */
  httpShare: number
  onError(error: unknown): void
}

export class Reader {
  readonly #ctx: ReaderContext
  readonly #loops: Promise<void>[] = []
  #pending: Observation[] = []
  #watermark = -Infinity
  #stopped = false
  reads = 0
  httpReads = 0

  constructor(ctx: ReaderContext) {
    this.#ctx = ctx
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
    const { model, clock, rows, tracer } = this.#ctx
    const a = pickRow(rows)
    // A row through the app's route, a row through the function, or a pair of rows.
    this.reads++
    const single = Math.random() >= this.#ctx.pairShare || rows < 2
    const via: ReadPath | undefined =
      Math.random() < this.#ctx.httpShare ? 'http' : single ? 'function' : undefined
    if (via !== undefined) {
      if (via === 'http') this.httpReads++
      const startedAt = clock.now()
      const { row, source } = await readRow(a, via, this.#ctx)
      this.#observe(a, row, source, startedAt, false, via)
      return
    }
    let b = pickRow(rows)
    while (b === a) b = pickRow(rows)
    const startedAt = clock.now()
    const { value: pair, trace } = await tracer.run(() => model.getPair(a, b))
    const outer = trace.sources.get(model.pairKey(a, b)) ?? 'flight'
    // A pair that was loaded here is as fresh as the rows it was built from, wherever they came from.
    const inner = (id: number) =>
      outer === 'loader' ? (trace.sources.get(model.rowKey(id)) ?? 'flight') : outer
    this.#observe(a, pair.a, inner(a), startedAt, true)
    this.#observe(b, pair.b, inner(b), startedAt, true)
  }

  #observe(
    id: number,
    row: Row,
    source: Source,
    startedAt: number,
    pair: boolean,
    via: ReadPath = 'function',
  ): void {
    if (row.id !== id) throw new Error(`freshness: asked for row ${id}, got row ${row.id}`)
    const o: Observation = { row: id, version: row.version, source, startedAt, pair, via }
    if (startedAt <= this.#watermark) this.#ctx.ledger.judge(o)
    else this.#pending.push(o)
  }
}

/**
 * Where a response of `GET /rows/:id` came from: its own entry's source (the one key of the trace
 * that is not the row's), or — when its handler ran — that of the row it read.
 */
export function httpSource(trace: Trace, rowKey: string): Source {
  const response = [...trace.sources].find(([key]) => key !== rowKey)?.[1] ?? 'flight'
  return response === 'loader' ? (trace.sources.get(rowKey) ?? 'flight') : response
}

/** Row `id` read through the cached function or the app's route, and where its value came from. */
export async function readRow(
  id: number,
  via: ReadPath,
  { tracer, app, model }: { tracer: Tracer; app: RowsApp; model: Model },
): Promise<{ row: Row; source: Source }> {
  if (via === 'http') {
    const { value, trace } = await tracer.request((headers) => callRow(app, 'GET', id, headers))
    return { row: value, source: httpSource(trace, model.rowKey(id)) }
  }
  const { value, trace } = await tracer.run(() => model.getRow(id))
  return { row: value, source: trace.sources.get(model.rowKey(id)) ?? 'flight' }
}
