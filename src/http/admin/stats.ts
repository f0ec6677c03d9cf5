import { healthOf } from '../../protocol/health.js'
import { prometheusMetrics, PROMETHEUS_CONTENT_TYPE } from '../metrics.js'
import type { RouteContext } from './context.js'
import { json, text } from './responses.js'
import { snakeCase } from './snake-case.js'

/**
 * `GET /stats` → `{ hits, misses, hit_rate, sets, deletes, invalidations, errors, loads, l1: {...},
 * l2: {...}, bus?: {...} }`: `cache.stats()` in snake_case (shared by all namespaces of the cache).
 */
export function statsRoute({ cache }: RouteContext): Response {
  return json(200, snakeCase(cache.stats()))
}

/** `GET /health` → `{ status, namespace, store, circuit, bus }`: see `src/protocol/health.ts`. */
export function healthRoute({ cache }: RouteContext): Response {
  return json(200, healthOf(cache))
}

/** `GET /metrics`: Prometheus text exposition of `cache.stats()`. */
export function metricsRoute({ cache }: RouteContext): Response {
  return text(prometheusMetrics(cache), PROMETHEUS_CONTENT_TYPE)
}
