/** Turns the workers' tallies into the verdict: a JSON-able report, and its text form. */
import type { RunResult } from './coordinator.js'
import {
  type Example,
  forbiddenCount,
  mergeOutcomes,
  type Source,
  type StaleKind,
} from './outcome.js'
import { type FaultRecord, tallyFaults } from './faults.js'
import type { RunOptions } from './options.js'
import type { PathTally, ReadPath } from './outcome.js'
import type { CallerError, WritePath } from './protocol.js'
import { FRAMEWORKS } from './rows-app.js'
import { type Summary, summarize } from './samples.js'

export interface Report {
  ok: boolean
  db: RunResult['db']
  break: string | null
  /** API writes invalidated with `{ ack: true }`. */
  ack: boolean
  seconds: number
  readers: number
  busless: number
  writers: number
  /** Top-level reader calls (a row or a pair). */
  reads: number
  readsPerSecond: number
  /** ... of which through the readers' apps (cached HTTP routes). */
  httpReads: number
  /** Row values judged (a pair is two; writers' reads of their own writes included). */
  checked: number
  sources: Record<Source, number>
  /** Judged values and stale ones, by how the read reached the cache. */
  readPaths: Record<ReadPath, PathTally>
  /** Frameworks of the apps (readers and writers in turn). */
  frameworks: readonly string[]
  writes: number
  /** Writes whose invalidation the whole fleet acknowledged (`--ack`). */
  ackedWrites: number
  /** Writes by how their invalidation went out. */
  writesVia: Record<WritePath, number>
  writesPerSecond: number
  /** Writers' background reads (not judged; they make writers' circuits open in outages). */
  writerReads: number
  stale: Record<StaleKind, number>
  forbidden: number
  examples: Example[]
  /** Allowed stale reads: how long after the invalidation resolved, in ms. */
  allowedWindowMs: Summary | null
  /** Allowed stale reads whose invalidation the bus had already brought: how long after, in ms. */
  allowedAfterBusMs: Summary | null
  /** Writer's resolve to each reader process's receipt on the bus, in ms (negative: before). */
  propagationMs: Summary | null
  /** Source writes: commit to the change capture's recorded invalidation. */
  captureLagMs: Summary | null
  /** Writes some reader's bus tap never heard (out of writes × readers). */
  unheard: number
  faults: {
    /** The kinds rotated through (empty: none). */
    kinds: string[]
    everyMs: number
    /** Where the caches' Redis was: REDIS_URL, or a redis-server of the run's own. */
    cacheRedis: RunResult['cacheRedis']
    proxied: boolean
    injected: Record<string, number>
    /** Attempts that could not be injected (e.g. a bus subscriber still reconnecting). */
    failed: Record<string, number>
    /** Every fault; times in ms since reads and writes began. */
    log: FaultRecord[]
  }
  bus: {
    distrusted: Record<string, number>
    syncs: number
    startedOver: number
    storeResets: number
    /** Steps made up from the store's log after gaps. */
    replayedSteps: number
    /** Times a cache's circuit breaker opened. */
    circuitOpens: number
  }
  /** Writers' invalidations the store did not record at first (expected under faults). */
  notRecorded: {
    /** `invalidate()` rejected with E_INVALIDATION_NOT_RECORDED: the writer was told. */
    rejected: number
    /** Their replay happened (the writer's replay queue drained); judged from then on. */
    replayed: number
    /** Never replayed before the writer stopped: a failure. */
    unresolved: number
    /** Rejection to drained replay queue, ms. */
    replayDelayMs: Summary | null
    /** Writers' requests to the invalidation service that failed and were retried. */
    serviceRetries: number
  }
  /** `error` events of the caches (seen by no caller; cut bus connections cause some). */
  cacheErrors: number
  firstCacheError: string | null
  /** Errors callers saw (E_INVALIDATION_NOT_RECORDED is not one: see notRecorded). */
  callerErrors: number
  /** By `<op> <code>`: op read | own-read (a writer's) | db-write | invalidate. */
  callerErrorKinds: Record<string, number>
  callerErrorExamples: CallerError[]
  /** The worst event-loop delay among the workers (p99 and max), in ms. */
  loopDelayMs: { p99: number; max: number }
}

export function buildReport(options: RunOptions, run: RunResult): Report {
  const results = run.workers
  const readers = results.filter((r) => r.role === 'reader')
  const outcome = mergeOutcomes(results.map((r) => r.outcome))
  const seconds = run.elapsedMs / 1000
  const reads = readers.reduce((n, r) => n + r.reads, 0)
  const writes = results.reduce((n, r) => n + r.writes, 0)
  const callerErrors = results.reduce((n, r) => n + r.errorCount, 0)
  const forbidden = forbiddenCount(outcome)
  const distrusted: Record<string, number> = {}
  for (const r of results) {
    for (const [reason, n] of Object.entries(r.bus.distrusted)) {
      distrusted[reason] = (distrusted[reason] ?? 0) + n
    }
  }
  const sum = (pick: (r: (typeof results)[number]) => number) =>
    results.reduce((n, r) => n + pick(r), 0)
  const callerErrorKinds: Record<string, number> = {}
  for (const r of results) {
    for (const [kind, n] of Object.entries(r.errorKinds)) {
      callerErrorKinds[kind] = (callerErrorKinds[kind] ?? 0) + n
    }
  }
  const unresolved = sum((r) => r.notRecorded.unresolved)
  const since = (t: number | undefined) => (t === undefined ? undefined : t - run.goMs)
  const { injected, failed } = tallyFaults(run.faults)
  return {
    ok: forbidden === 0 && callerErrors === 0 && unresolved === 0,
    db: run.db,
    break: options.break ?? null,
    ack: options.ack,
    seconds,
    readers: options.readers,
    busless: options.busless,
    writers: options.writers,
    reads,
    readsPerSecond: Math.round(reads / seconds),
    httpReads: sum((r) => r.httpReads),
    checked: outcome.checked,
    sources: outcome.sources,
    readPaths: outcome.via,
    frameworks: FRAMEWORKS,
    writes,
    ackedWrites: sum((r) => r.ackedWrites),
    writesVia: {
      api: sum((r) => r.writesVia.api),
      http: sum((r) => r.writesVia.http),
      service: sum((r) => r.writesVia.service),
      source: sum((r) => r.writesVia.source),
      set: sum((r) => r.writesVia.set),
      delete: sum((r) => r.writesVia.delete),
    },
    writesPerSecond: Math.round(writes / seconds),
    writerReads: sum((r) => r.backgroundReads),
    stale: outcome.stale,
    forbidden,
    examples: outcome.examples.map((e) => ({
      ...e,
      startedAt: since(e.startedAt),
      resolvedAt: since(e.resolvedAt),
      ...(e.events === undefined
        ? {}
        : { events: e.events.map((ev) => ({ ...ev, at: ev.at - run.goMs })) }),
    })),
    allowedWindowMs: summarize(results.map((r) => r.outcome.allowedWindow)) ?? null,
    allowedAfterBusMs: summarize(results.map((r) => r.outcome.allowedAfterBus)) ?? null,
    propagationMs: summarize(readers.map((r) => r.propagation)) ?? null,
    captureLagMs:
      summarize(results.flatMap((r) => (r.captureLag === undefined ? [] : [r.captureLag]))) ?? null,
    unheard: sum((r) => r.unheard),
    faults: {
      kinds: options.faults,
      everyMs: options.faultEveryMs,
      cacheRedis: run.cacheRedis,
      proxied: run.proxied,
      injected,
      failed,
      log: run.faults.map((f) => ({
        ...f,
        startMs: f.startMs - run.goMs,
        endMs: f.endMs - run.goMs,
      })),
    },
    bus: {
      distrusted,
      syncs: sum((r) => r.bus.syncs),
      startedOver: sum((r) => r.bus.startedOver),
      storeResets: sum((r) => r.bus.storeResets),
      replayedSteps: sum((r) => r.bus.replayedSteps),
      circuitOpens: sum((r) => r.bus.circuitOpens),
    },
    notRecorded: {
      rejected: sum((r) => r.notRecorded.rejected),
      replayed: sum((r) => r.notRecorded.replayed),
      unresolved,
      replayDelayMs: summarize(results.map((r) => r.notRecorded.replayDelay)) ?? null,
      serviceRetries: sum((r) => r.notRecorded.serviceRetries),
    },
    cacheErrors: sum((r) => r.bus.cacheErrors),
    firstCacheError: results.find((r) => r.bus.firstCacheError)?.bus.firstCacheError ?? null,
    callerErrors,
    callerErrorKinds,
    callerErrorExamples: results.flatMap((r) => r.errors).slice(0, 5),
    loopDelayMs: {
      p99: Math.max(...results.map((r) => r.loopDelay.p99)),
      max: Math.max(...results.map((r) => r.loopDelay.max)),
    },
  }
}

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`

const ms = (s: Summary | null) =>
  s === null
    ? 'none'
    : `p50 ${s.p50.toFixed(2)} / p99 ${s.p99.toFixed(2)} / max ${s.max.toFixed(2)} ms (n=${s.count})`

export function formatReport(r: Report): string {
  const kinds = Object.entries(r.stale)
    .map(([kind, n]) => `    ${kind.padEnd(26)} ${n}`)
    .join('\n')
  const sources = Object.entries(r.sources)
    .map(([source, n]) => `${source} ${n}`)
    .join(', ')
  const examples = r.examples.flatMap((e) => [
    `    ${e.kind}: pid ${e.pid} row ${e.row}${e.pair ? ' (in a pair)' : ''} got v${e.got}, ` +
      `v${e.expected} was invalidated ${e.lagMs.toFixed(1)} ms before the read began` +
      (e.afterBusMs === undefined
        ? ' (the bus never delivered it here)'
        : e.afterBusMs >= 0
          ? ` (bus delivered ${e.afterBusMs.toFixed(1)} ms before)`
          : ` (bus delivered it ${(-e.afterBusMs).toFixed(1)} ms after the read began)`) +
      ` — from ${e.source}` +
      (e.startedAt === undefined ? '' : `; read began at ${s4(e.startedAt)}`) +
      (e.resolvedAt === undefined
        ? ''
        : `, first newer write resolved at ${s4(e.resolvedAt)}` +
          (e.replayed === true ? ' (by replay)' : ` (seq ${e.seq})`)) +
      during(r.faults.log, e.resolvedAt, e.startedAt),
    ...evidence(e.events ?? [], e.row),
  ])
  const errors = r.callerErrorExamples.map(
    (e) => `    ${e.role} ${e.index} (${e.op}, ${e.code}): ${e.message}`,
  )
  const errorKinds = Object.entries(r.callerErrorKinds)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ')
  const counts = (c: Record<string, number>) =>
    Object.entries(c)
      .map(([kind, n]) => `${kind} ${n}`)
      .join(', ')
  const f = r.faults
  const faultLines =
    f.kinds.length === 0
      ? ['  faults: none']
      : [
          `  faults (every ~${f.everyMs} ms; caches on ${f.cacheRedis === 'own' ? "the run's own redis-server" : 'REDIS_URL'}` +
            `${f.proxied ? ', through a TCP proxy' : ''}): injected ${counts(f.injected) || 'none'}` +
            (Object.keys(f.failed).length > 0 ? `; could not inject ${counts(f.failed)}` : ''),
          ...wrap(
            f.log.map(
              (x) =>
                `${x.kind}${x.failed === undefined ? '' : '(failed)'} ${s3(x.startMs)}-${s3(x.endMs)}`,
            ),
            '    ',
          ),
        ]
  const nr = r.notRecorded
  const distrusted = Object.entries(r.bus.distrusted)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ')
  return [
    `${r.ok ? 'PASS' : 'FAIL'}: ${r.forbidden} forbidden stale reads, ${r.callerErrors} caller errors` +
      (r.notRecorded.unresolved > 0
        ? `, ${r.notRecorded.unresolved} rejected invalidations never replayed`
        : '') +
      (r.break === null ? '' : ` (library broken on purpose: ${r.break})`),
    `  ${plural(r.readers, 'reader')} (${r.busless} without a bus) + ` +
      `${plural(r.writers, 'writer')} on ${r.db}, ` +
      `${r.seconds.toFixed(1)} s; worst event-loop delay p99 ${r.loopDelayMs.p99.toFixed(1)} / ` +
      `max ${r.loopDelayMs.max.toFixed(1)} ms`,
    `  reads ${r.reads} (${r.readsPerSecond}/s; ${r.httpReads} through cached routes of ` +
      `${r.frameworks.join(', ')}), row values checked ${r.checked}: ${sources}`,
    `  by path: ${Object.entries(r.readPaths)
      .map(
        ([path, t]) =>
          `${path} ${t.checked} checked, ${t.allowed} allowed stale, ${t.forbidden} forbidden`,
      )
      .join('; ')}`,
    `  writes ${r.writes} (${r.writesPerSecond}/s; invalidated by ${counts(r.writesVia)}` +
      `${r.ack ? `; ${r.ackedWrites} acknowledged by every process` : ''}); ` +
      `writers' background reads (not judged) ${r.writerReads}`,
    `  stale reads by kind:`,
    kinds,
    ...(examples.length > 0 ? ['  forbidden examples:', ...examples] : []),
    `  allowed stale window (after invalidate resolved): ${ms(r.allowedWindowMs)}`,
    `  allowed stale reads after the bus had delivered:  ${ms(r.allowedAfterBusMs)}`,
    `  propagation (resolve -> each reader's bus receipt): ${ms(r.propagationMs)}` +
      (r.unheard > 0 ? `, ${r.unheard} not heard` : ''),
    ...(r.captureLagMs === null
      ? []
      : [`  change capture (source writes: commit -> recorded): ${ms(r.captureLagMs)}`]),
    ...faultLines,
    `  bus: distrusted: ${distrusted || 'never'}; ${r.bus.syncs} syncs (${r.bus.startedOver} ` +
      `started over, ${r.bus.replayedSteps} steps replayed from the log), ` +
      `${r.bus.storeResets} store resets, circuit opened ${r.bus.circuitOpens} times`,
    `  invalidations not recorded (expected under faults): ${nr.rejected} rejected with ` +
      `E_INVALIDATION_NOT_RECORDED, ${nr.replayed} replayed (${ms(nr.replayDelayMs)}), ` +
      `${nr.unresolved} never replayed; ${nr.serviceRetries} requests to the service retried`,
    `  cache error events (no caller saw them): ${r.cacheErrors}` +
      (r.firstCacheError === null ? '' : ` — first: ${r.firstCacheError}`),
    `  caller errors: ${errorKinds || 'none'}`,
    ...errors,
  ].join('\n')
}

/** Seconds since reads and writes began. */
const s3 = (ms: number) => `${(ms / 1000).toFixed(3)}s`
const s4 = (ms: number) => `${(ms / 1000).toFixed(4)}s`

/** The faults whose span meets [from, to] (ms since go), for a forbidden example. */
function during(log: readonly FaultRecord[], from?: number, to?: number): string {
  if (from === undefined || to === undefined) return ''
  const hit = log.filter((f) => f.startMs <= to && f.endMs >= from - 1_000)
  return hit.length === 0
    ? '; no fault within 1 s before'
    : `; faults around: ${hit.map((f) => `${f.kind} ${s3(f.startMs)}-${s3(f.endMs)}`).join(', ')}`
}

/** Joins items into lines of at most ~100 characters. */
function wrap(items: readonly string[], indent: string): string[] {
  const lines: string[] = []
  let line = ''
  for (const item of items) {
    if (line !== '' && indent.length + line.length + item.length + 2 > 100) {
      lines.push(indent + line)
      line = ''
    }
    line = line === '' ? item : `${line}, ${item}`
  }
  if (line !== '') lines.push(indent + line)
  return lines
}

/**
 * A forbidden example's timeline: its process's bus and store events (invalidations of other
 * rows left out: --json has them all), repeated lines folded (`x12`), at most 80 lines.
 */
function evidence(events: readonly { at: number; what: string }[], row: number): string[] {
  const mine = new RegExp(`\\brow:${row}\\b`)
  events = events.filter((e) => !/\brow:\d/.test(e.what) || mine.test(e.what))
  if (events.length === 0) return []
  const lines: string[] = []
  for (let i = 0; i < events.length;) {
    const e = events[i] as { at: number; what: string }
    let j = i + 1
    while (j < events.length && events[j]!.what === e.what) j++
    lines.push(
      `        ${s4(e.at)} ${e.what}${j - i > 1 ? ` (x${j - i} until ${s4(events[j - 1]!.at)})` : ''}`,
    )
    i = j
  }
  const shown = lines.slice(0, 80)
  if (lines.length > shown.length)
    shown.push(`        ... ${lines.length - shown.length} more (see --json)`)
  return ['      events of that process:', ...shown]
}
