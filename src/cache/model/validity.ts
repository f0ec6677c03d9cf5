import { Validity } from './tag-registry.js'

/**
 * Whether an entry may be served — decided here and nowhere else (docs/invalidation.md, "What a
 * read checks"). `Validity` (from the tag registry) says what invalidations did to the entry;
 * this adds time, version and cached failures:
 *
 * - **Hit**: valid (no hard or soft record above its starts), before `expiresAt`, same version.
 *   A cached failure (`cacheErrors`) is a hit only for a caller that rethrows it (`getOrSet`);
 *   to `get`, `getMany`, `has` and `getOrSetMany` the key has no value.
 * - **Stale**: expired (or soft-invalidated), still within its own grace (`staleUntil`) and the
 *   caller's (`graceMs`); never a hard-invalidated entry, never a cached failure. Only read-through
 *   callers serve it (while a load refreshes it); to plain reads it is a miss.
 * - **Miss**: anything else.
 */
export const enum Served {
  Hit = 0,
  Stale = 1,
  Miss = 2,
}

/** What the rule looks at, whichever tier the entry comes from. */
export interface Servable {
  readonly expiresAt: number
  readonly staleUntil: number
  readonly version: string | undefined
  /** The value is a cached failure. */
  readonly failure: boolean
}

/** Pass as `version` to accept an entry of any version (plain reads). */
export const ANY_VERSION: unique symbol = Symbol('cachegraph.anyVersion')

/**
 * The rule. `failures`: true for callers that rethrow a cached failure, false for those to whom
 * it is absent. `graceMs`: the caller's grace (Infinity: the entry's own).
 */
export function served(
  entry: Servable,
  validity: Validity,
  now: number,
  version: string | undefined | typeof ANY_VERSION,
  failures: boolean,
  graceMs: number,
): Served {
  if (validity === Validity.Invalid) return Served.Miss
  if (version !== ANY_VERSION && entry.version !== version) return Served.Miss
  if (validity === Validity.Valid && now < entry.expiresAt) {
    return entry.failure && !failures ? Served.Miss : Served.Hit
  }
  if (!entry.failure && now < entry.staleUntil && now < entry.expiresAt + graceMs) {
    return Served.Stale
  }
  return Served.Miss
}
