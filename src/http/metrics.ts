import type { Cache, CacheStats } from '../index.js'
import { families, type PrometheusOptions, resolvePrometheusOptions } from './metric-families.js'

export type { PrometheusOptions }

/** The content type of the Prometheus text exposition format, version 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

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
  const { prefix, labels: constant } = resolvePrometheusOptions(options)
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
