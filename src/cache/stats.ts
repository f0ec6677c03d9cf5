/** A snapshot of a cache's counters (see `cache.stats()`). */
export interface CacheStats {
  hits: number
  misses: number
  /** hits / (hits + misses), 0 before any read. */
  hitRate: number
  sets: number
  deletes: number
  invalidations: number
  errors: number
  /** Loader runs (single flight makes this lower than misses under concurrency). */
  loads: number
  l1: { hits: number; misses: number; entries: number; knownTags: number }
  l2: {
    hits: number
    misses: number
    errors: number
    /** Invalidations the store did not record yet, queued for replay (distinct tags). */
    replayQueue: number
    /** The shared tier's circuit breaker. */
    circuit: 'closed' | 'open' | 'half-open'
  }
  /** With a bus: where this process stands in the fleet's invalidations. */
  bus?: BusStats
}

/** The bus part of {@link CacheStats}. */
export interface BusStats {
  /** The bus vouches for this process: its L1 serves hits, it judges shared-tier entries itself. */
  trusted: boolean
  /** Every invalidation up to this sequence has been applied here. */
  seq: number
  /** Messages heard (steps and heartbeats). */
  messages: number
  /** Gaps seen; each was replayed from the store's log or started over. */
  gaps: number
  /** Steps made up from the log. */
  replayed: number
  /** Times this process started over: its first sync, a gap beyond the log, a store that lost state. */
  startOvers: number
  /** Times the bus stopped vouching (lost connection, silence, gap). */
  distrusts: number
}

/** Mutable counters behind {@link CacheStats}; shared by a cache and its namespaces. */
export class Counters {
  misses = 0
  sets = 0
  deletes = 0
  invalidations = 0
  errors = 0
  loads = 0
  l1Hits = 0
  l1Misses = 0
  l2Hits = 0
  l2Misses = 0
  l2Errors = 0

  snapshot(
    l1Entries: number,
    knownTags: number,
    l2: { replayQueue: number; circuit: CacheStats['l2']['circuit'] },
    bus?: BusStats,
  ): CacheStats {
    // Every hit is counted once, by the tier that served it.
    const hits = this.l1Hits + this.l2Hits
    const reads = hits + this.misses
    return {
      hits,
      misses: this.misses,
      hitRate: reads === 0 ? 0 : hits / reads,
      sets: this.sets,
      deletes: this.deletes,
      invalidations: this.invalidations,
      errors: this.errors,
      loads: this.loads,
      l1: { hits: this.l1Hits, misses: this.l1Misses, entries: l1Entries, knownTags },
      l2: { hits: this.l2Hits, misses: this.l2Misses, errors: this.l2Errors, ...l2 },
      ...(bus === undefined ? {} : { bus }),
    }
  }
}
