/** Turns the workers' tallies into the verdict: a JSON-able report, and its text form. */
import type { RunResult } from './coordinator.js'
import {
  type Example,
  forbiddenCount,
  mergeOutcomes,
  type Source,
  type StaleKind,
} from './outcome.js'
import type { RunOptions } from './options.js'
import type { CallerError } from './protocol.js'
import { type Summary, summarize } from './samples.js'

export interface Report {
  ok: boolean
  db: RunResult['db']
  break: string | null
  seconds: number
  readers: number
  busless: number
  writers: number
  /** Top-level reader calls (a row or a pair). */
  reads: number
  readsPerSecond: number
  /** Row values judged (a pair is two; writers' reads of their own writes included). */
  checked: number
  sources: Record<Source, number>
  writes: number
  writesPerSecond: number
  stale: Record<StaleKind, number>
  forbidden: number
  examples: Example[]
  /** Allowed stale reads: how long after the invalidation resolved, in ms. */
  allowedWindowMs: Summary | null
  /** Allowed stale reads whose invalidation the bus had already brought: how long after, in ms. */
  allowedAfterBusMs: Summary | null
  /** Writer's resolve to each reader process's receipt on the bus, in ms (negative: before). */
  propagationMs: Summary | null
  /** Writes some reader's bus tap never heard (out of writes × readers). */
  unheard: number
  busKills: number
  bus: {
    distrusted: Record<string, number>
    syncs: number
    startedOver: number
    storeResets: number
  }
  /** `error` events of the caches (seen by no caller; cut bus connections cause some). */
  cacheErrors: number
  firstCacheError: string | null
  callerErrors: number
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
  return {
    ok: forbidden === 0 && callerErrors === 0,
    db: run.db,
    break: options.break ?? null,
    seconds,
    readers: options.readers,
    busless: options.busless,
    writers: options.writers,
    reads,
    readsPerSecond: Math.round(reads / seconds),
    checked: outcome.checked,
    sources: outcome.sources,
    writes,
    writesPerSecond: Math.round(writes / seconds),
    stale: outcome.stale,
    forbidden,
    examples: outcome.examples,
    allowedWindowMs: summarize(results.map((r) => r.outcome.allowedWindow)) ?? null,
    allowedAfterBusMs: summarize(results.map((r) => r.outcome.allowedAfterBus)) ?? null,
    propagationMs: summarize(readers.map((r) => r.propagation)) ?? null,
    unheard: sum((r) => r.unheard),
    busKills: run.busKills,
    bus: {
      distrusted,
      syncs: sum((r) => r.bus.syncs),
      startedOver: sum((r) => r.bus.startedOver),
      storeResets: sum((r) => r.bus.storeResets),
    },
    cacheErrors: sum((r) => r.bus.cacheErrors),
    firstCacheError: results.find((r) => r.bus.firstCacheError)?.bus.firstCacheError ?? null,
    callerErrors,
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
  const examples = r.examples.map(
    (e) =>
      `    ${e.kind}: pid ${e.pid} row ${e.row}${e.pair ? ' (in a pair)' : ''} got v${e.got}, ` +
      `v${e.expected} was invalidated ${e.lagMs.toFixed(1)} ms before the read began` +
      (e.afterBusMs === undefined ? '' : ` (bus delivered ${e.afterBusMs.toFixed(1)} ms before)`) +
      ` — from ${e.source}`,
  )
  const errors = r.callerErrorExamples.map((e) => `    ${e.role} ${e.index}: ${e.message}`)
  const distrusted = Object.entries(r.bus.distrusted)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ')
  return [
    `${r.ok ? 'PASS' : 'FAIL'}: ${r.forbidden} forbidden stale reads, ${r.callerErrors} caller errors` +
      (r.break === null ? '' : ` (library broken on purpose: ${r.break})`),
    `  ${plural(r.readers, 'reader')} (${r.busless} without a bus) + ` +
      `${plural(r.writers, 'writer')} on ${r.db}, ` +
      `${r.seconds.toFixed(1)} s; worst event-loop delay p99 ${r.loopDelayMs.p99.toFixed(1)} / ` +
      `max ${r.loopDelayMs.max.toFixed(1)} ms`,
    `  reads ${r.reads} (${r.readsPerSecond}/s), row values checked ${r.checked}: ${sources}`,
    `  writes ${r.writes} (${r.writesPerSecond}/s)`,
    `  stale reads by kind:`,
    kinds,
    ...(examples.length > 0 ? ['  forbidden examples:', ...examples] : []),
    `  allowed stale window (after invalidate resolved): ${ms(r.allowedWindowMs)}`,
    `  allowed stale reads after the bus had delivered:  ${ms(r.allowedAfterBusMs)}`,
    `  propagation (resolve -> each reader's bus receipt): ${ms(r.propagationMs)}` +
      (r.unheard > 0 ? `, ${r.unheard} not heard` : ''),
    `  bus: ${r.busKills} connections cut; distrusted: ${distrusted || 'never'}; ` +
      `${r.bus.syncs} syncs (${r.bus.startedOver} started over), ${r.bus.storeResets} store resets`,
    `  cache error events (no caller saw them): ${r.cacheErrors}` +
      (r.firstCacheError === null ? '' : ` — first: ${r.firstCacheError}`),
    ...(errors.length > 0 ? ['  caller errors:', ...errors] : []),
  ].join('\n')
}
