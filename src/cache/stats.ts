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
  l2: { hits: number; misses: number; errors: number }
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

  snapshot(l1Entries: number, knownTags: number): CacheStats {
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
      l2: { hits: this.l2Hits, misses: this.l2Misses, errors: this.l2Errors },
    }
  }
}
