import { invalidOption } from '../errors.js'
import type { CacheStats } from '../index.js'

/**
 * The metric families of a cache's counters, shared by the Prometheus text exporter
 * (`metrics.ts`) and the prom-client collector (`cachegraph/prometheus`): one list, so both
 * expose the same names, types, help and labels.
 */

/** Options both exporters take. */
export interface PrometheusOptions {
  /**
   * Prepended to every metric name.
   * @default 'cachegraph_'
   */
  prefix?: string
  /**
   * Labels added to every sample, e.g. `{ cache: 'sessions' }` to tell several caches of one
   * process apart (their counters would otherwise collide).
   * @default {}
   */
  labels?: Readonly<Record<string, string>>
}

export type Kind = 'counter' | 'gauge'

/** One metric family: its name (without the prefix), type, help and samples. */
export interface Family {
  name: string
  kind: Kind
  help: string
  samples: { labels?: Record<string, string>; value: number }[]
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const CIRCUIT_STATES = ['closed', 'open', 'half-open'] as const

/** The options with defaults, checked: a `CacheError` naming `metrics.prefix` / `metrics.labels`. */
export function resolvePrometheusOptions(options: PrometheusOptions): {
  prefix: string
  labels: Readonly<Record<string, string>>
} {
  const prefix = options.prefix ?? 'cachegraph_'
  if (typeof prefix !== 'string' || (prefix !== '' && !METRIC_NAME.test(prefix))) {
    throw invalidOption(
      'metrics.prefix',
      `must be a Prometheus metric name prefix, got ${JSON.stringify(prefix)}`,
    )
  }
  const labels = options.labels ?? {}
  for (const name of Object.keys(labels)) {
    if (!LABEL_NAME.test(name) || name.startsWith('__')) {
      throw invalidOption('metrics.labels', `has an invalid label name ${JSON.stringify(name)}`)
    }
  }
  return { prefix, labels }
}

/** Every family of `stats`; those of the bus only when it has one. */
export function families(stats: CacheStats): Family[] {
  const counter = (name: string, help: string, value: number): Family => ({
    name,
    kind: 'counter',
    help,
    samples: [{ value }],
  })
  const gauge = (name: string, help: string, value: number): Family => ({
    name,
    kind: 'gauge',
    help,
    samples: [{ value }],
  })
  const list: Family[] = [
    {
      name: 'hits_total',
      kind: 'counter',
      help: 'Reads served from the cache, by the tier that served them.',
      samples: [
        { labels: { tier: 'l1' }, value: stats.l1.hits },
        { labels: { tier: 'l2' }, value: stats.l2.hits },
      ],
    },
    counter('misses_total', 'Reads that no tier could serve.', stats.misses),
    {
      name: 'tier_misses_total',
      kind: 'counter',
      help: 'Lookups that missed one tier (an L1 miss may still hit L2).',
      samples: [
        { labels: { tier: 'l1' }, value: stats.l1.misses },
        { labels: { tier: 'l2' }, value: stats.l2.misses },
      ],
    },
    counter('sets_total', 'Entries written.', stats.sets),
    counter('deletes_total', 'Keys deleted.', stats.deletes),
    counter('invalidations_total', 'Invalidations made by this process.', stats.invalidations),
    counter('errors_total', 'Errors reported by the cache.', stats.errors),
    counter('store_errors_total', 'Failed or timed out shared-tier calls.', stats.l2.errors),
    counter('loads_total', 'Loader runs.', stats.loads),
    gauge('l1_entries', 'Entries held in the in-process tier.', stats.l1.entries),
    gauge('known_tags', 'Tags whose invalidation state this process tracks.', stats.l1.knownTags),
    gauge(
      'replay_queue',
      'Invalidated tags the shared tier has not recorded yet, queued for replay.',
      stats.l2.replayQueue,
    ),
    {
      name: 'circuit_state',
      kind: 'gauge',
      help: "The shared tier's circuit breaker: 1 for the current state.",
      samples: CIRCUIT_STATES.map((state) => ({
        labels: { state },
        value: stats.l2.circuit === state ? 1 : 0,
      })),
    },
  ]
  const bus = stats.bus
  if (bus !== undefined) {
    list.push(
      gauge(
        'bus_trusted',
        '1 while the bus vouches for this process (its L1 serves hits).',
        bus.trusted ? 1 : 0,
      ),
      gauge('bus_seq', 'Every invalidation up to this sequence has been applied here.', bus.seq),
      counter('bus_messages_total', 'Bus messages heard (steps and heartbeats).', bus.messages),
      counter('bus_gaps_total', 'Gaps seen in the bus sequence.', bus.gaps),
      counter('bus_replayed_total', 'Steps made up from the log after a gap.', bus.replayed),
      counter('bus_start_overs_total', 'Times this process started over.', bus.startOvers),
      counter(
        'bus_distrusts_total',
        'Times the bus stopped vouching for this process.',
        bus.distrusts,
      ),
    )
  }
  return list
}
