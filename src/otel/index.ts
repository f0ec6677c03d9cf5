import { metrics, type MeterProvider, trace, type TracerProvider } from '@opentelemetry/api'

import type { Cache } from '../index.js'
import { cacheMetrics } from './metrics.js'
import { type Ended, openOperations, OPERATIONS, traceChannel } from './spans.js'

/** Options of {@link instrument}. */
export interface InstrumentOptions {
  /** Where spans go; `false`: no spans. @default the global tracer provider */
  tracerProvider?: TracerProvider | false
  /** Where metrics go; `false`: no metrics. @default the global meter provider */
  meterProvider?: MeterProvider | false
  /**
   * Caches whose hits, misses and errors by tier are reported (`cachegraph.hits`,
   * `cachegraph.misses`, `cachegraph.errors`), read from `stats()` at each collection.
   * @default [] (spans, loader durations and invalidations need none: they cover every cache)
   */
  caches?: readonly Cache[]
  /**
   * Spans for `get` and `getOrSet` too. Every L1 hit then takes the traced path (a few µs):
   * turn them off on hot read paths, loads and invalidations stay traced.
   * @default true
   */
  reads?: boolean
}

/**
 * OpenTelemetry spans and metrics for cachegraph, built on its `node:diagnostics_channel`
 * tracing channels (docs/tracing.md): a span per `get`, `getOrSet`, `set`, loader run (`load`)
 * and `invalidate` — nested under the caller's active span, and a loader under the `getOrSet`
 * that ran it; an invalidation span lists its tags, the keys it dropped from this process's L1
 * and, with `ack: true`, how the fleet acknowledged. Metrics: `cachegraph.load.duration`
 * (seconds), `cachegraph.invalidations`, and hits, misses and errors by tier of `caches`.
 * Returns the unsubscribe. `@opentelemetry/api` is an optional peer dependency.
 *
 * @example
 * import { instrument } from 'cachegraph/otel'
 * const stop = instrument({ caches: [cache] }) // the global providers of the OpenTelemetry SDK
 */
export function instrument(options: InstrumentOptions = {}): () => void {
  const { tracerProvider, meterProvider, caches = [], reads = true } = options
  const tracer =
    tracerProvider === false
      ? undefined
      : (tracerProvider ?? trace.getTracerProvider()).getTracer('cachegraph')
  const meter =
    meterProvider === false
      ? undefined
      : (meterProvider ?? metrics.getMeterProvider()).getMeter('cachegraph')
  const measured = meter === undefined ? undefined : cacheMetrics(meter, caches)
  const ended: Ended = measured?.ended ?? (() => {})
  const current = openOperations()
  const stops = OPERATIONS.filter((op) => reads || (op !== 'get' && op !== 'getOrSet')).map(
    (operation) => traceChannel(operation, tracer, ended, current),
  )
  let stopped = false
  return () => {
    if (stopped) return
    stopped = true
    for (const stop of stops) stop()
    measured?.stop()
  }
}
