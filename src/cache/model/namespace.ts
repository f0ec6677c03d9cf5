/** Where a cache's keys and tags live, and what a write carries on its way to the tiers. */

/** A cache's place in the key and tag space. Children share the engine. */
export interface Namespace {
  /** `app` or `app:users`. */
  readonly path: string
  /** Prepended to keys: `app::` or `app:users::` (the `::` keeps paths and keys apart). */
  readonly prefix: string
  /** Implicit `@ns:` tags of this namespace and every ancestor: `clear()` of a parent reaches children. */
  readonly tags: readonly string[]
  /**
   * Prepended to keys in the L1: `''` for the root (no string building on the hit path),
   * `\0app:users\0` for children. Keys may not start with `\0`, so the two never collide.
   */
  readonly l1Prefix: string
}

/** An entry on its way to the tiers. */
export interface PendingWrite {
  fullKey: string
  l1Key: string
  value: unknown
  /** Every tag, implicit ones included. */
  tags: readonly string[]
  /** As-of sequence (the oldest of its tags); undefined = supersede, as of a fresh sequence. */
  start: number | undefined
  /** Per-tag starts when they differ from `start`. */
  tagStarts?: readonly number[] | undefined
  ttlMs: number
  /** Grace of this entry. @default the cache's `grace` */
  graceMs?: number
  /** `version` of the read-through call that wrote it. */
  version?: string | undefined
  /** Session-private: kept in L1 only, never in the shared tier. */
  localOnly?: boolean
  /**
   * Set by the write: the store refused it for a step this process had not heard of (a quiet
   * one, docs/invalidation.md), so it cannot tell who asked before that step.
   */
  unheard?: boolean
}

/**
 * The L1 key of `key` in `ns`. The root's keys are used as given — the very string the caller
 * holds — so a lookup hashes nothing new and compares pointers before characters.
 */
export const l1KeyOf = (ns: Namespace, key: string): string =>
  ns.l1Prefix === '' ? key : ns.l1Prefix + key

/** Prefix of the implicit tags; user tags may not start with it. */
export const IMPLICIT = '@'
/** What every key tag starts with (`keyTag`). */
export const KEY_TAG_PREFIX = `${IMPLICIT}key:`
export const keyTag = (fullKey: string): string => KEY_TAG_PREFIX + fullKey
