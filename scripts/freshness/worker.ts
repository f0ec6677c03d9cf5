/**
 * Entry of a worker process (forked by the coordinator; its config is the first argument). One
 * cache per process, as an application would have: the shared Redis store, the Redis bus, its
 * own L1, and an app server on it (rows-app.ts). Readers read, writers write, the service
 * process serves the invalidation service; at the end each sends its tally back and exits.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'

import type * as ClientEntry from '../../src/client/index.js'
import type * as Core from '../../src/index.js'
import type * as PostgresEntry from '../../src/postgres/index.js'
import type * as ServiceEntry from '../../src/service/index.js'
import type * as RedisEntry from '../../src/redis/index.js'
import { type BusTap, tapBus } from './bus-tap.js'
import { watchBus } from './bus-watch.js'
import { sharedClock } from './clock.js'
import { openDb } from './database.js'
import { Ledger } from './ledger.js'
import { defineModel, ROW_TTL_MS } from './model.js'
import type {
  CallerError,
  CallerOp,
  FromWorker,
  ToWorker,
  WorkerConfig,
  WorkerResult,
} from './protocol.js'
import { Reader } from './reader.js'
import { type RowsApp, startRowsApp } from './rows-app.js'
import { Samples } from './samples.js'
import { Timeline } from './timeline.js'
import { Tracer } from './trace.js'
import { Writer } from './writer.js'

const NAMESPACE = 'cgfresh'
/** The invalidation service's API key (the service runs on 127.0.0.1 for the run only). */
const SERVICE_KEY = 'freshness-check'
const PAIR_SHARE = 0.4
const MAX_ERRORS_KEPT = 5
const EVIDENCE_BEFORE_MS = 1_500
const EVIDENCE_AFTER_MS = 500

const config = JSON.parse(process.argv[2] ?? '') as WorkerConfig
// The coordinator drives the shutdown, also on Ctrl-C (which reaches the whole process group);
// a coordinator that is gone for good leaves no worker behind.
process.on('SIGINT', () => {})
process.on('disconnect', () => process.exit(3))

function send(message: FromWorker): Promise<void> {
  return new Promise((resolve) => process.send?.(message, undefined, undefined, () => resolve()))
}

/** Resolves with the next message of `type` from the coordinator. */
function next<T extends ToWorker['type']>(type: T): Promise<Extract<ToWorker, { type: T }>> {
  return new Promise((resolve) => {
    const listener = (message: ToWorker) => {
      if (message.type !== type) return
      process.off('message', listener)
      resolve(message as Extract<ToWorker, { type: T }>)
    }
    process.on('message', listener)
  })
}

async function main(): Promise<void> {
  const clock = sharedClock(config.epoch)
  const loop = monitorEventLoopDelay({ resolution: 5 })
  // The specifiers name either the package or a patched copy (library.ts): both have these types.
  const core = (await import(config.library.core)) as typeof Core
  const redis = (await import(config.library.redis)) as typeof RedisEntry
  const cache = core.createCache({
    namespace: NAMESPACE,
    jitter: 0.5,
    store: redis.redisStore({ url: config.redisUrl, prefix: config.prefix }),
    ...(config.bus ? { bus: redis.redisBus({ maxSilence: config.maxSilenceMs }) } : {}),
  })
  const bus = watchBus(cache, config.bus)
  const tracer = new Tracer(cache, bus)
  const timeline = new Timeline(clock)
  timeline.follow(cache)
  process.on('SIGCONT', () => timeline.add('SIGCONT handled (the process was stopped)'))
  cache.on('miss', ({ key }) => {
    const row = /::row:\[(\d+)\]$/.exec(key)?.[1]
    if (row !== undefined) timeline.add(`load of row:${row} started (miss)`)
  })
  const db = openDb(config.db, config.dbRedisUrl, config.concurrency + 1)
  // The slow-loaders fault: the coordinator says when loaders take longer, and when not.
  const slow = { extraMs: 0 }
  process.on('message', (message: ToWorker) => {
    if (message.type === 'slow') slow.extraMs = message.extraMs
  })
  const model = defineModel(cache, NAMESPACE, db, config.loaderDelayMs, slow)
  let app: RowsApp | undefined
  let service: ServiceEntry.ListeningServer | undefined
  if (config.role === 'service') {
    const { createInvalidationService, listen } = (await import(
      config.library.service
    )) as typeof ServiceEntry
    const handler = createInvalidationService({ cache, apiKeys: [SERVICE_KEY] })
    const listening = await listen({ handler, port: config.servicePort ?? 0 })
    service = listening
    // The service-restart fault's SIGTERM: as `cachegraph serve` does, finish the requests in
    // flight, then stop (a SIGKILL gives it no such chance).
    process.once('SIGTERM', () => {
      void listening
        .close()
        .then(() => cache.close())
        .finally(() => process.exit(0))
    })
  } else {
    app = await startRowsApp(
      config.framework,
      config.library.adapters,
      { cache, model, db, ack: config.ack },
      tracer,
    )
  }
  let client: ClientEntry.InvalidationClient | undefined
  if (config.role === 'writer' && config.serviceUrl !== undefined) {
    const { createInvalidationClient } = (await import(config.library.client)) as typeof ClientEntry
    // The client's defaults, as an application would have them: they retry for a minute, longer
    // than any fault lasts (a 503 while the store is out, the service restarting).
    client = createInvalidationClient({
      apiUrl: config.serviceUrl,
      apiKey: SERVICE_KEY,
      ack: config.ack,
    })
  }
  // Source writes: this writer's own change capture of the rows table (source-writes.ts).
  let postgres: typeof PostgresEntry | undefined
  if (config.role === 'writer' && config.writePaths.includes('source')) {
    postgres = (await import(config.library.postgres)) as typeof PostgresEntry
  }
  let toldForbidden = false
  const ledger = new Ledger({
    pid: process.pid,
    maxSilenceMs: config.maxSilenceMs,
    busSlackMs: config.busSlackMs,
    ...(config.bus ? {} : { noBusBoundMs: ROW_TTL_MS }),
    // Evidence: what the process went through from a little before the write to after the read.
    onExample: (example) => {
      if (!toldForbidden) {
        toldForbidden = true
        void send({ type: 'forbidden' })
      }
      const from = (example.resolvedAt ?? example.startedAt ?? 0) - EVIDENCE_BEFORE_MS
      const fill = () =>
        (example.events = timeline.between(from, (example.startedAt ?? 0) + EVIDENCE_AFTER_MS))
      fill()
      setTimeout(fill, EVIDENCE_AFTER_MS).unref()
    },
  })
  const errors: CallerError[] = []
  const errorKinds: Record<string, number> = {}
  let errorCount = 0
  const onError = (error: unknown, op: CallerOp) => {
    errorCount++
    const code = errorCode(error)
    errorKinds[`${op} ${code}`] = (errorKinds[`${op} ${code}`] ?? 0) + 1
    if (errors.length < MAX_ERRORS_KEPT) {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
      errors.push({ role: config.role, index: config.index, op, code, message })
    }
  }
  let tap: BusTap | undefined
  if (config.role === 'reader' && config.bus) {
    tap = tapBus(cache, clock, (seq, receivedAt, settledAt) =>
      ledger.heard(seq, receivedAt, settledAt),
    )
  }
  await bus.untilTrusted(10_000)
  const reader =
    config.role === 'reader'
      ? new Reader({
          model,
          ledger,
          clock,
          tracer,
          app: app!,
          rows: config.rows,
          concurrency: config.concurrency,
          pairShare: PAIR_SHARE,
          httpShare: config.httpShare,
          onError: (error) => onError(error, 'read'),
        })
      : undefined
  const writer =
    config.role === 'writer'
      ? new Writer({
          cache,
          model,
          db,
          ledger,
          clock,
          tracer,
          app: app!,
          client,
          postgres,
          table: config.db.table,
          writePaths: config.writePaths,
          ack: config.ack,
          rows: config.rows,
          owner: config.writePaths.includes('set')
            ? { index: config.index, writers: config.writers }
            : undefined,
          writeRate: config.writeRate,
          backgroundReads: config.writerReads,
          send: (message) => void send(message),
          onError,
          note: (what) => timeline.add(what),
        })
      : undefined
  // The write log, relayed by the coordinator; the last batch has an infinite watermark.
  const complete = new Promise<void>((resolve) => {
    process.on('message', (message: ToWorker) => {
      if (message.type !== 'writes' || reader === undefined) return
      reader.receive(message.writes, message.watermark)
      if (message.watermark === Infinity) resolve()
    })
  })
  await writer?.prepare()
  const go = next('go')
  await send({ type: 'ready', pid: process.pid, url: service?.url })
  await go
  loop.enable()
  reader?.start()
  writer?.start()
  await next('stop')
  await reader?.stop()
  await writer?.stop()
  loop.disable()
  if (reader !== undefined) await complete
  const propagation = new Samples()
  let unheard = 0
  // Only a process with a bus has a tap to hear them.
  if (tap !== undefined) {
    for (const write of ledger.writes()) {
      if (write.seq < 0) continue // a replayed invalidation: its sequence is not known
      const receivedAt = ledger.receivedAt(write.seq)
      if (receivedAt === undefined) unheard++
      else propagation.add(receivedAt - write.resolvedAt)
    }
  }
  const result: WorkerResult = {
    role: config.role,
    index: config.index,
    pid: process.pid,
    reads: reader?.reads ?? 0,
    httpReads: reader?.httpReads ?? 0,
    ackedWrites: writer?.ackedWrites ?? 0,
    writesVia: writer?.writesVia ?? { api: 0, http: 0, service: 0, source: 0, set: 0, delete: 0 },
    ...(writer?.captureLag === undefined ? {} : { captureLag: writer.captureLag }),
    outcome: ledger.result(),
    propagation: propagation.toJSON(),
    unheard,
    writes: writer?.writes ?? 0,
    backgroundReads: writer?.backgroundReadCount ?? 0,
    errors,
    errorCount,
    errorKinds,
    notRecorded: writer?.notRecorded ?? {
      rejected: 0,
      replayed: 0,
      unresolved: 0,
      serviceRetries: 0,
      replayDelay: new Samples().toJSON(),
    },
    bus: { ...bus.tally, replayedSteps: cache.stats().bus?.replayed ?? 0 },
    loopDelay: { p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
  }
  await send({ type: 'result', result })
  tap?.close()
  timeline.close()
  await client?.close()
  await app?.close()
  await service?.close()
  await cache.close()
  await db.close()
}

/** A `CacheError`'s code (any copy of the library), else the error's name. */
function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string') return code
  return error instanceof Error ? error.name : typeof error
}

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error)
    // On stderr too: the coordinator may see this process exit before the message arrives.
    console.error(`freshness: ${config.role} ${config.index} failed: ${message}`)
    await send({ type: 'fatal', message })
    process.exit(1)
  },
)
