import type { Attributes, Meter, ObservableResult } from '@opentelemetry/api'

import type { Cache } from '../index.js'
import type { Ended } from './spans.js'

/**
 * Metrics of the traced operations — loader durations and invalidations, heard on the tracing
 * channels — and, for the `caches` given, hits, misses and errors by tier, read from
 * `cache.stats()` when the meter collects (nothing on the read path). Returns what a traced
 * operation's end reports to, and the unregister.
 */
export function cacheMetrics(
  meter: Meter,
  caches: readonly Cache[],
): { ended: Ended; stop: () => void } {
  const loadDuration = meter.createHistogram('cachegraph.load.duration', {
    description: 'Loader runs (with their shared-tier read and write), by outcome',
    unit: 's',
  })
  const invalidations = meter.createCounter('cachegraph.invalidations', {
    description: 'Invalidations (invalidate, delete, clear), by outcome',
  })
  const hits = meter.createObservableCounter('cachegraph.hits', {
    description: 'Reads answered by a tier (l1: this process, l2: the shared store)',
  })
  const misses = meter.createObservableCounter('cachegraph.misses', {
    description: 'Reads a tier could not answer',
  })
  const errors = meter.createObservableCounter('cachegraph.errors', {
    description: 'Failed calls to a tier (l2: the shared store)',
  })
  const observe = (observer: (o: ObservableResult, cache: Cache) => void) => {
    return (result: ObservableResult) => {
      for (const cache of caches) observer(result, cache)
    }
  }
  const at = (cache: Cache, tier: string): Attributes => ({
    'cachegraph.namespace': cache.name,
    'cachegraph.tier': tier,
  })
  const onHits = observe((result, cache) => {
    const stats = cache.stats()
    result.observe(stats.l1.hits, at(cache, 'l1'))
    if (cache.storeName !== undefined) result.observe(stats.l2.hits, at(cache, 'l2'))
  })
  const onMisses = observe((result, cache) => {
    const stats = cache.stats()
    result.observe(stats.l1.misses, at(cache, 'l1'))
    if (cache.storeName !== undefined) result.observe(stats.l2.misses, at(cache, 'l2'))
  })
  const onErrors = observe((result, cache) => {
    if (cache.storeName !== undefined) result.observe(cache.stats().l2.errors, at(cache, 'l2'))
  })
  if (caches.length > 0) {
    hits.addCallback(onHits)
    misses.addCallback(onMisses)
    errors.addCallback(onErrors)
  }
  return {
    ended: (operation, ms, error) => {
      const outcome = { 'cachegraph.outcome': error === undefined ? 'ok' : 'error' }
      if (operation === 'load') loadDuration.record(ms / 1000, outcome)
      else if (operation === 'invalidate') invalidations.add(1, outcome)
    },
    stop: () => {
      hits.removeCallback(onHits)
      misses.removeCallback(onMisses)
      errors.removeCallback(onErrors)
    },
  }
}
