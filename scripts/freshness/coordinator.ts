/**
 * One run of the freshness checker: set up the rows, start the workers, relay the write log
 * from writers to readers, inject faults on schedule, collect the tallies — and clean up
 * whatever happens (the run's Redis keys, its table, its patched library copy, its processes,
 * its proxy and redis-server).
 */
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'

import { Redis } from 'ioredis'

import { deleteRunKeys } from './cleanup.js'
import { newEpoch, sharedClock } from './clock.js'
import { chooseDb, createRows, type DbPlace, dropRows } from './database.js'
import { type FaultRecord, type FaultSchedule, scheduleFaults } from './faults.js'
import { prepareLibrary } from './library.js'
import type { RunOptions } from './options.js'
import type { DbKind, WorkerConfig, WorkerResult, WriteRecord } from './protocol.js'
import { type Framework, FRAMEWORKS } from './rows-app.js'
import { ServiceProcess } from './service-process.js'
import { setUpTopology, type Topology } from './topology.js'
import { within, WorkerProcess } from './workers.js'

export interface RunResult {
  runId: string
  db: DbKind
  /** How long reads and writes ran, in ms. */
  elapsedMs: number
  workers: WorkerResult[]
  /** Every fault, in order, on the shared clock (ms since the run's epoch). */
  faults: FaultRecord[]
  /** When reads and writes began, on the same clock. */
  goMs: number
  /** Where the caches' Redis was: the machine's (`REDIS_URL`), or the run's own server. */
  cacheRedis: 'shared' | 'own'
  proxied: boolean
}

const STARTUP_MS = 30_000
const SHUTDOWN_MS = 30_000
/** With `--until faults`: how long the run goes on after the last fault, so its effects are judged. */
const UNTIL_FAULTS_TAIL_MS = 2_000

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
  /** Readers and writers (the service, restarted by a fault, is apart). */
  const workers: WorkerProcess[] = []
  let service: ServiceProcess | undefined
  let place: DbPlace | undefined
  let topology: Topology | undefined
  let faults: FaultSchedule | undefined
  try {
    topology = await setUpTopology(options.faults, options.redisUrl)
    const kind = await chooseDb(options.db)
    if (options.writePaths.includes('source') && kind !== 'postgres') {
      throw new Error('freshness: --write-paths source needs PostgreSQL (--db postgres)')
    }
    place = { kind, table: kind === 'postgres' ? runId.replaceAll('-', '_') : `${runId}-db:row` }
    // The rows stay on REDIS_URL (never the proxy, never the run's own server).
    await createRows(place, options.rows, options.redisUrl)
    const epoch = newEpoch()
    const clock = sharedClock(epoch)
    const base: Omit<WorkerConfig, 'role' | 'index' | 'bus' | 'framework'> = {
      library,
      httpShare: options.httpShare,
      writePaths: options.writePaths,
      ack: options.ack,
      serviceUrl: undefined,
      redisUrl: topology.cacheUrl,
      dbRedisUrl: options.redisUrl,
      prefix: runId,
      db: place,
      rows: options.rows,
      writers: options.writers,
      concurrency: options.concurrency,
      writeRate: options.writeRate,
      writerReads: options.writerReads,
      loaderDelayMs: options.loaderDelayMs,
      maxSilenceMs: options.maxSilenceMs,
      busSlackMs: options.busSlackMs,
      epoch,
    }
    const relay = new Relay(options.writers, (writes, watermark) => {
      for (const w of workers)
        if (w.config.role === 'reader') w.send({ type: 'writes', writes, watermark })
    })
    // The invalidation service first: the writers need its address.
    if (options.writePaths.includes('service')) {
      service = await ServiceProcess.start(
        { ...base, role: 'service', index: 0, bus: true, framework: 'fastify' },
        STARTUP_MS,
      )
      base.serviceUrl = service.url
    }
    // Apps rotate through the frameworks, so every adapter serves reads and writes.
    let appCount = 0
    const framework = () => FRAMEWORKS[appCount++ % FRAMEWORKS.length] as Framework
    for (let i = 0; i < options.readers; i++) {
      // The last `busless` readers have no bus.
      const bus = i < options.readers - options.busless
      workers.push(
        new WorkerProcess(
          { ...base, role: 'reader', index: i, bus, framework: framework() },
          () => {},
        ),
      )
    }
    for (let i = 0; i < options.writers; i++) {
      workers.push(
        new WorkerProcess(
          { ...base, role: 'writer', index: i, bus: true, framework: framework() },
          (writes, mark) => relay.add(i, writes, mark),
        ),
      )
    }
    const where =
      topology.own !== undefined
        ? `, caches on a redis-server of the run's own (:${topology.own.server.port})`
        : ''
    progress(
      `freshness: ${options.readers} reader(s) (${options.busless} without a bus, ` +
        `${Math.round(options.httpShare * 100)} % of reads through their apps) + ` +
        `${options.writers} writer(s) (invalidating by ${options.writePaths.join(', ')}` +
        `${options.ack ? ', the API with { ack: true }' : ''}), ${kind} as the source ` +
        `of truth, ${options.durationMs / 1000} s${options.break ? `, break: ${options.break}` : ''}` +
        (options.faults.length > 0
          ? `, faults every ~${options.faultEveryMs} ms: ${options.faults.join(', ')}`
          : ', no faults') +
        where +
        (topology.proxy !== undefined ? ' (through a TCP proxy)' : ''),
    )
    await within(Promise.all(workers.map((w) => w.ready)), STARTUP_MS, 'starting the workers')
    workers.forEach((w) => w.send({ type: 'go' }))
    service?.current.send({ type: 'go' })
    const goMs = clock.now()
    const started = Date.now()
    if (options.faults.length > 0) {
      faults = scheduleFaults(options.faults, options.faultEveryMs, {
        clock,
        maxSilenceMs: options.maxSilenceMs,
        cacheAdmin: topology.cacheAdmin,
        proxy: topology.proxy,
        own: topology.own,
        service,
        recordsKeys: [`{${runId}}:h`, `{${runId}}:s`],
        busWorkers: [...workers.filter((w) => w.config.bus), ...(service ? [service] : [])],
        pausable: workers.filter((w) => w.config.bus && w.config.role === 'reader'),
        slowLoaders: (extraMs) => workers.forEach((w) => w.send({ type: 'slow', extraMs })),
      })
    }
    // `--until`: the run ends at the first forbidden stale read, or once every fault was
    // injected often enough and its effects had time to show (the duration is then only a cap),
    // so a run that looks for something does not depend on how busy the machine is.
    const found = new AbortController()
    const until = options.until
    if (until?.kind === 'forbidden') {
      void Promise.race(workers.map((w) => w.forbidden)).then(() => found.abort('forbidden'))
    } else if (until?.kind === 'faults' && faults !== undefined) {
      void faults
        .covered(until.rounds)
        .then(() => sleep(UNTIL_FAULTS_TAIL_MS + 2 * options.maxSilenceMs))
        .then(() => found.abort('faults'))
    }
    const signals = interrupt === undefined ? [found.signal] : [interrupt, found.signal]
    await sleep(options.durationMs, undefined, { signal: AbortSignal.any(signals) }).catch(() =>
      progress(
        found.signal.aborted
          ? found.signal.reason === 'forbidden'
            ? 'freshness: a forbidden stale read was found, stopping (--until forbidden)'
            : `freshness: every fault was injected ${until?.kind === 'faults' ? until.rounds : 1} time(s), stopping (--until faults)`
          : 'freshness: interrupted, stopping early',
      ),
    )
    // Ends the fault in progress (resume, SIGCONT, loaders back) before the workers stop.
    await faults?.stop()
    // The service stops last: a writer's last invalidation may still be on its way to it.
    const [others, services] = [workers, service ? [service.current] : []]
    others.forEach((w) => w.send({ type: 'stop' }))
    const elapsedMs = Date.now() - started
    const collect = async () => {
      const results = await Promise.all(others.map((w) => w.result))
      services.forEach((w) => w.send({ type: 'stop' }))
      return [...results, ...(await Promise.all(services.map((w) => w.result)))]
    }
    const results = await within(collect(), SHUTDOWN_MS, 'collecting the results')
    return {
      runId,
      db: kind,
      elapsedMs,
      workers: results,
      faults: [...(faults?.records ?? [])],
      goMs,
      cacheRedis: topology.shared ? 'shared' : 'own',
      proxied: topology.proxy !== undefined,
    }
  } finally {
    await faults?.stop()
    workers.forEach((w) => w.kill())
    service?.kill()
    // The rows (`--db redis`) are on REDIS_URL; so are the caches' keys unless the run had its
    // own server (which goes with topology.close()).
    await deleteRunKeys(admin, runId).catch((error: unknown) =>
      progress(`freshness: could not delete the keys of ${runId}: ${String(error)}`),
    )
    if (place !== undefined) await dropRows(place).catch(() => {})
    await topology?.close()
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
