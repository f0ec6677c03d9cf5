/**
 * One run of the freshness checker: set up the rows, start the workers, relay the write log
 * from writers to readers, cut bus connections on schedule, collect the tallies — and clean up
 * whatever happens (the run's Redis keys, its table, its patched library copy, its processes).
 */
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'

import { Redis } from 'ioredis'

import { deleteRunKeys } from './cleanup.js'
import { newEpoch } from './clock.js'
import { chooseDb, createRows, type DbPlace, dropRows } from './database.js'
import { type FaultInjector, killBusConnections } from './faults.js'
import { prepareLibrary } from './library.js'
import type { RunOptions } from './options.js'
import type { DbKind, WorkerConfig, WorkerResult, WriteRecord } from './protocol.js'
import { within, WorkerProcess } from './workers.js'

export interface RunResult {
  runId: string
  db: DbKind
  /** How long reads and writes ran, in ms. */
  elapsedMs: number
  workers: WorkerResult[]
  busKills: number
  busKillFailures: number
}

const STARTUP_MS = 30_000
const SHUTDOWN_MS = 30_000

/** `interrupt`: ends the reads and writes early (Ctrl-C); the run still reports and cleans up. */
export async function runChecker(
  options: RunOptions,
  progress: (line: string) => void,
  interrupt?: AbortSignal,
): Promise<RunResult> {
  const runId = `cgfresh-${process.pid}-${randomBytes(4).toString('hex')}`
  const library = await prepareLibrary(options.break)
  const admin = new Redis(options.redisUrl, { maxRetriesPerRequest: 1 })
  admin.on('error', () => {}) // commands fail with the error; the event is noise
  const workers: WorkerProcess[] = []
  let place: DbPlace | undefined
  let faults: FaultInjector | undefined
  try {
    const kind = await chooseDb(options.db)
    place = { kind, table: kind === 'postgres' ? runId.replaceAll('-', '_') : `${runId}-db:row` }
    await createRows(place, options.rows, options.redisUrl)
    const base: Omit<WorkerConfig, 'role' | 'index' | 'bus'> = {
      library: { core: library.core, redis: library.redis },
      redisUrl: options.redisUrl,
      prefix: runId,
      db: place,
      rows: options.rows,
      concurrency: options.concurrency,
      writeRate: options.writeRate,
      loaderDelayMs: options.loaderDelayMs,
      maxSilenceMs: options.maxSilenceMs,
      busSlackMs: options.busSlackMs,
      epoch: newEpoch(),
    }
    const relay = new Relay(options.writers, (writes, watermark) => {
      for (const w of workers)
        if (w.config.role === 'reader') w.send({ type: 'writes', writes, watermark })
    })
    for (let i = 0; i < options.readers; i++) {
      // The last `busless` readers have no bus.
      const bus = i < options.readers - options.busless
      workers.push(new WorkerProcess({ ...base, role: 'reader', index: i, bus }, () => {}))
    }
    for (let i = 0; i < options.writers; i++) {
      workers.push(
        new WorkerProcess({ ...base, role: 'writer', index: i, bus: true }, (writes, mark) =>
          relay.add(i, writes, mark),
        ),
      )
    }
    progress(
      `freshness: ${options.readers} reader(s) (${options.busless} without a bus) + ${options.writers} writer(s), ${kind} as the source ` +
        `of truth, ${options.durationMs / 1000} s${options.break ? `, break: ${options.break}` : ''}`,
    )
    await within(Promise.all(workers.map((w) => w.ready)), STARTUP_MS, 'starting the workers')
    workers.forEach((w) => w.send({ type: 'go' }))
    const started = Date.now()
    if (options.killEveryMs > 0) {
      const withBus = workers.filter((w) => w.config.bus).map((w) => w.pid)
      faults = killBusConnections(admin, withBus, options.killEveryMs)
    }
    await sleep(options.durationMs, undefined, { signal: interrupt }).catch(() =>
      progress('freshness: interrupted, stopping early'),
    )
    faults?.stop()
    workers.forEach((w) => w.send({ type: 'stop' }))
    const elapsedMs = Date.now() - started
    const results = await within(
      Promise.all(workers.map((w) => w.result)),
      SHUTDOWN_MS,
      'collecting the results',
    )
    return {
      runId,
      db: kind,
      elapsedMs,
      workers: results,
      busKills: faults?.kills ?? 0,
      busKillFailures: faults?.failures ?? 0,
    }
  } finally {
    faults?.stop()
    workers.forEach((w) => w.kill())
    await deleteRunKeys(admin, runId).catch((error: unknown) =>
      progress(`freshness: could not delete the keys of ${runId}: ${String(error)}`),
    )
    if (place !== undefined) await dropRows(place).catch(() => {})
    await library.dispose()
    admin.disconnect()
  }
}

/**
 * Passes writers' batches on to the readers with a watermark: the lowest mark among the writers,
 * below which every write has been sent (a finished writer's mark is infinite).
 */
class Relay {
  readonly #marks: number[]
  readonly #forward: (writes: WriteRecord[], watermark: number) => void

  constructor(writers: number, forward: (writes: WriteRecord[], watermark: number) => void) {
    this.#marks = Array.from({ length: writers }, () => -Infinity)
    this.#forward = forward
  }

  add(writer: number, writes: WriteRecord[], mark: number): void {
    this.#marks[writer] = mark
    this.#forward(writes, Math.min(...this.#marks))
  }
}
