import { invalidOption } from '../errors.js'
import type { Cache, CacheStats } from '../index.js'

/** The content type of the Prometheus text exposition format, version 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

/** Options of {@link prometheusMetrics}. */
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

type Kind = 'counter' | 'gauge'

/** One metric family: its name (without the prefix), type, help and samples. */
interface Family {
  name: string
  kind: Kind
  help: string
  samples: { labels?: Record<string, string>; value: number }[]
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const CIRCUIT_STATES = ['closed', 'open', 'half-open'] as const

/**
 * The Prometheus text exposition (format 0.0.4) of a cache's counters: `# HELP` and `# TYPE`
 * lines, then one `name{labels} value` line per sample. Counters (`_total`): hits by tier, misses
 * (overall and by tier), sets, deletes, invalidations, errors, store errors, loads, and the bus's
 * messages, gaps, replayed steps, start-overs and distrusts. Gauges: L1 entries, known tags, the
 * replay queue, the circuit breaker state (one series per state, 1 for the current one) and the
 * bus's trust and sequence. Serve it with {@link PROMETHEUS_CONTENT_TYPE}.
 *
 * @example
 * res.setHeader('content-type', PROMETHEUS_CONTENT_TYPE)
 * res.end(prometheusMetrics(cache, { labels: { cache: 'app' } }))
 */
export function prometheusMetrics(
  source: Cache | CacheStats,
  options: PrometheusOptions = {},
): string {
  const prefix = options.prefix ?? 'cachegraph_'
  if (typeof prefix !== 'string' || (prefix !== '' && !METRIC_NAME.test(prefix))) {
    throw invalidOption(
      'metrics.prefix',
      `must be a Prometheus metric name prefix, got ${JSON.stringify(prefix)}`,
    )
  }
  const constant = options.labels ?? {}
  for (const name of Object.keys(constant)) {
    if (!LABEL_NAME.test(name) || name.startsWith('__')) {
      throw invalidOption('metrics.labels', `has an invalid label name ${JSON.stringify(name)}`)
    }
  }
  const stats = 'stats' in source && typeof source.stats === 'function' ? source.stats() : source
  let out = ''
  for (const family of families(stats as CacheStats)) {
    const name = prefix + family.name
    out += `# HELP ${name} ${escapeHelp(family.help)}\n# TYPE ${name} ${family.kind}\n`
    for (const sample of family.samples) {
      out += `${name}${labelSet({ ...constant, ...sample.labels })} ${formatValue(sample.value)}\n`
    }
  }
  return out
}

function families(stats: CacheStats): Family[] {
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

/** `{a="1",b="x"}`, or nothing without labels. Values escape `\`, `"` and newlines. */
function labelSet(labels: Record<string, string>): string {
  const pairs = Object.entries(labels).map(
    ([name, value]) =>
      `${name}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
  )
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`
}

const escapeHelp = (help: string): string => help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  return String(value)
}
