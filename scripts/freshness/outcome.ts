/** What the judge found, per process and for the run: counts by source and kind, examples. */
import { Samples, type SampleSet } from './samples.js'
import type { TimelineEvent } from './timeline.js'

/**
 * Where a value came from: this process's L1 (`l1-distrusted`: while the bus could not vouch for
 * it), a load of this process the read joined (`flight`), the shared tier, or a loader.
 */
export type Source = 'l1' | 'l1-distrusted' | 'flight' | 'l2' | 'loader'

/** How a read reached the cache: a cached function called directly, or a cached HTTP route. */
export const READ_PATHS = ['function', 'http'] as const
export type ReadPath = (typeof READ_PATHS)[number]

/** Per read path: row values judged, and how many were stale (allowed or not). */
export interface PathTally {
  checked: number
  allowed: number
  forbidden: number
}

export const STALE_KINDS = [
  'allowed-l1',
  'allowed-flight',
  'allowed-no-bus',
  'forbidden-l1-too-old',
  'forbidden-l1-after-bus',
  'forbidden-l1-distrusted',
  'forbidden-flight',
  'forbidden-l2',
  'forbidden-loader',
  'forbidden-own',
  'forbidden-after-ack',
] as const
export type StaleKind = (typeof STALE_KINDS)[number]

/** One row value a reader got: alone, or as half of a pair. */
export interface Observation {
  row: number
  version: number
  source: Source
  /** When the top-level call began (shared clock). */
  startedAt: number
  /** The value came inside a nested (pair) value. */
  pair: boolean
  via: ReadPath
}

export interface Example {
  kind: StaleKind
  pid: number
  row: number
  got: number
  /** The newest version whose invalidation had resolved before the read began. */
  expected: number
  source: Source
  pair: boolean
  via?: ReadPath
  /** How long after the first newer invalidation resolved the read began, in ms. */
  lagMs: number
  /** How long after the bus had delivered a newer invalidation the read began, in ms. */
  afterBusMs: number | undefined
  /** When the read began (shared clock, ms since the run's epoch). */
  startedAt?: number
  /** When the first newer write's invalidation resolved (shared clock). */
  resolvedAt?: number
  /** That write's invalidation was rejected at first and resolved by the replay. */
  replayed?: boolean
  /** Its sequence (-1: replayed, unknown). */
  seq?: number
  /** The process's bus and store events from just before that write to just after the read. */
  events?: TimelineEvent[]
}

export interface Outcome {
  /** Row values judged (a pair counts two). */
  checked: number
  sources: Record<Source, number>
  via: Record<ReadPath, PathTally>
  stale: Record<StaleKind, number>
  examples: Example[]
  /** Allowed stale reads of processes with a bus: ms after the invalidation resolved. */
  allowedWindow: SampleSet
  /** The same reads: ms after the bus delivered a newer invalidation (negative: before). */
  allowedAfterBus: SampleSet
}

export const MAX_EXAMPLES = 5

export const isForbidden = (kind: StaleKind): boolean => kind.startsWith('forbidden')
export const forbiddenCount = (outcome: Outcome): number =>
  STALE_KINDS.filter(isForbidden).reduce((n, kind) => n + outcome.stale[kind], 0)

export function emptyOutcome(): Outcome {
  return {
    checked: 0,
    sources: { l1: 0, 'l1-distrusted': 0, flight: 0, l2: 0, loader: 0 },
    via: {
      function: { checked: 0, allowed: 0, forbidden: 0 },
      http: { checked: 0, allowed: 0, forbidden: 0 },
    },
    stale: Object.fromEntries(STALE_KINDS.map((k) => [k, 0])) as Record<StaleKind, number>,
    examples: [],
    allowedWindow: new Samples().toJSON(),
    allowedAfterBus: new Samples().toJSON(),
  }
}

/** Totals of several processes' outcomes (counts and examples; sample sets are summarized apart). */
export function mergeOutcomes(outcomes: readonly Outcome[]): Outcome {
  const total = emptyOutcome()
  for (const o of outcomes) {
    total.checked += o.checked
    for (const s of Object.keys(o.sources) as Source[]) total.sources[s] += o.sources[s]
    for (const k of STALE_KINDS) total.stale[k] += o.stale[k]
    for (const path of READ_PATHS) {
      total.via[path].checked += o.via[path].checked
      total.via[path].allowed += o.via[path].allowed
      total.via[path].forbidden += o.via[path].forbidden
    }
  }
  total.examples = varied(outcomes.flatMap((o) => o.examples))
  return total
}

/** Up to MAX_EXAMPLES examples, taking one of each kind in turn so that every kind shows. */
function varied(examples: readonly Example[]): Example[] {
  const byKind = new Map<StaleKind, Example[]>()
  for (const e of examples) byKind.set(e.kind, [...(byKind.get(e.kind) ?? []), e])
  const picked: Example[] = []
  while (picked.length < MAX_EXAMPLES && byKind.size > 0) {
    for (const [kind, list] of byKind) {
      const next = list.shift()
      if (next !== undefined && picked.length < MAX_EXAMPLES) picked.push(next)
      if (list.length === 0) byKind.delete(kind)
    }
  }
  return picked
}
