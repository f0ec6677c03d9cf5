/**
 * The answer of `GET /health`, the same from the service and from the admin API. Always 200
 * while the process answers: a cache whose store is unreachable still serves (reads fall back to
 * loaders), so it reports `status: 'degraded'` instead of taking the process out of a load
 * balancer.
 */
export interface Health {
  /** `degraded` while the store's circuit is not closed or the bus distrusts this process's L1. */
  status: 'ok' | 'degraded'
  /** The cache's namespace. */
  namespace: string
  /** The store's name (`memory`, `redis`, `redis-cluster`), `null` without one. */
  store: string | null
  /** The store's circuit breaker. */
  circuit: 'closed' | 'open' | 'half-open'
  /** The bus's view, `null` without a bus: whether L1 is trusted, and the last step applied. */
  bus: { trusted: boolean; seq: number } | null
}

/** What {@link healthOf} reads of a cache (a `Cache` has it all). */
export interface HealthSource {
  readonly name: string
  readonly storeName?: string | undefined
  stats(): {
    l2: { circuit: Health['circuit'] }
    bus?: { trusted: boolean; seq: number } | undefined
  }
}

export function healthOf(cache: HealthSource): Health {
  const { l2, bus } = cache.stats()
  return {
    status: l2.circuit !== 'closed' || bus?.trusted === false ? 'degraded' : 'ok',
    namespace: cache.name,
    store: cache.storeName ?? null,
    circuit: l2.circuit,
    bus: bus === undefined ? null : { trusted: bus.trusted, seq: bus.seq },
  }
}
