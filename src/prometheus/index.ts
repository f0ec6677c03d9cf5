import { Counter, Gauge, register as defaultRegistry, type Registry } from 'prom-client'

import { invalidOption } from '../errors.js'
import type { Cache } from '../index.js'
import {
  type Family,
  families,
  type PrometheusOptions,
  resolvePrometheusOptions,
} from '../http/metric-families.js'

/** Options of {@link registerPrometheus}. */
export interface RegisterPrometheusOptions extends PrometheusOptions {
  /** The prom-client registry the metrics join. @default prom-client's global `register` */
  registry?: Registry
}

/**
 * Registers a cache's metrics with prom-client, so an app's own `/metrics` (whatever serves
 * `registry.metrics()`) exposes them: the same families as the text exporter
 * (`prometheusMetrics` of `cachegraph/http`) — hits by tier, misses, sets, invalidations,
 * errors, loads, L1 entries, the circuit breaker, the bus — each read from `cache.stats()` when
 * the registry is scraped (nothing is counted twice, nothing runs between scrapes). Several
 * caches in one registry need their own `prefix`. Returns the unregister. `prom-client` is an
 * optional peer dependency.
 *
 * @example
 * import { registerPrometheus } from 'cachegraph/prometheus'
 * registerPrometheus(cache) // prom-client's global registry
 * app.get('/metrics', async (_req, res) => res.type('text/plain').send(await register.metrics()))
 */
export function registerPrometheus(
  cache: Cache,
  options: RegisterPrometheusOptions = {},
): () => void {
  if (typeof cache?.stats !== 'function') {
    throw invalidOption('cache', 'must be a cache made by createCache()')
  }
  const { prefix, labels } = resolvePrometheusOptions(options)
  const registry = options.registry ?? defaultRegistry
  if (typeof registry?.registerMetric !== 'function') {
    throw invalidOption('registry', 'must be a prom-client Registry')
  }
  // The bus's families exist only with a bus, which a cache has or not for life.
  const names = families(cache.stats()).map((family) => {
    register(registry, cache, prefix + family.name, family, labels)
    return prefix + family.name
  })
  return () => {
    for (const name of names) registry.removeSingleMetric(name)
  }
}

function register(
  registry: Registry,
  cache: Cache,
  name: string,
  family: Family,
  constant: Readonly<Record<string, string>>,
): void {
  const labelNames = [
    ...new Set([
      ...Object.keys(constant),
      ...family.samples.flatMap((sample) => Object.keys(sample.labels ?? {})),
    ]),
  ]
  /** The family as the cache's counters stand now. */
  const samples = () => families(cache.stats()).find((f) => f.name === family.name)?.samples ?? []
  const help = family.help
  if (family.kind === 'gauge') {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect(this: Gauge) {
        this.reset()
        for (const sample of samples()) this.set({ ...constant, ...sample.labels }, sample.value)
      },
    })
    return
  }
  // A counter mirrors the cache's own, which only grows: set to it at each scrape.
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect(this: Counter) {
      this.reset()
      for (const sample of samples()) this.inc({ ...constant, ...sample.labels }, sample.value)
    },
  })
}
