import { randomUUID } from 'node:crypto'

import { toMs } from '../../util/duration.js'
import type { Engine } from '../engine.js'
import type { SharedTier } from '../tiers/shared.js'
import type { GetOrSetOptions } from '../../types/options.js'

/** `lock` of a read-through call, resolved. */
export interface LockPlan {
  /** How long a caller waits for another process's value before computing it itself, ms. */
  waitMs: number
  /** How long a lease lasts if its holder never releases it (a crashed process), ms. */
  ttlMs: number
}

const DEFAULT_WAIT_MS = 5_000
const DEFAULT_LEASE_MS = 10_000

/** Resolves the `lock` option of `getOrSet` / `wrap`. */
export function lockPlan(lock: GetOrSetOptions<unknown>['lock']): LockPlan | undefined {
  if (lock === undefined || lock === false) return undefined
  if (lock === true) return { waitMs: DEFAULT_WAIT_MS, ttlMs: DEFAULT_LEASE_MS }
  return {
    waitMs: toMs(lock.wait ?? DEFAULT_WAIT_MS, 'lock.wait'),
    ttlMs: toMs(lock.ttl ?? DEFAULT_LEASE_MS, 'lock.ttl'),
  }
}

/** What waiting for a lease ended with. */
export type LeaseOutcome =
  /** This process holds the lease (or could not get one in time): it computes. */
  | { kind: 'compute'; token: string | undefined }
  /** Another process stored the value meanwhile: `found` got it. */
  | { kind: 'found' }

/**
 * Distributed single flight (the leases of "Scaling Memcache at Facebook"): the first process
 * to miss a key takes its lease, checks once more that nobody stored the value meanwhile, and
 * computes; the others poll the store for its value, backing
 * off from 5 ms to 100 ms, and take the lease themselves if it is released without a value (the
 * holder failed) — or compute anyway once `waitMs` is over, so a stuck holder costs a bounded
 * wait. A value computed under a lease is stored by the usual rules only: an invalidation during
 * the lease voids it just the same.
 *
 * @param found reads the store again; true when it now holds a value to serve.
 */
export async function leaseOrWait(
  engine: Engine,
  fullKey: string,
  plan: LockPlan,
  found: () => Promise<boolean>,
): Promise<LeaseOutcome> {
  const store = engine.store
  if (store?.acquireLease === undefined) return { kind: 'compute', token: undefined }
  const acquire = store.acquireLease.bind(store)
  const token = randomUUID()
  const deadline = engine.clock.now() + plan.waitMs
  let delay = 5
  for (;;) {
    const held = await (engine.shared as SharedTier).guard('write', () =>
      acquire(fullKey, token, plan.ttlMs),
    )
    // An unreachable store: no lease to be had, compute (nothing will be stored anyway).
    if (held === undefined) return { kind: 'compute', token: undefined }
    if (held) {
      // The previous holder may have stored its value and let go just before: look once more.
      if (!(await found())) return { kind: 'compute', token }
      releaseLease(engine, fullKey, token)
      return { kind: 'found' }
    }
    if (engine.clock.now() >= deadline) return { kind: 'compute', token: undefined }
    await new Promise((resolve) => setTimeout(resolve, delay))
    delay = Math.min(delay * 2, 100)
    if (await found()) return { kind: 'found' }
  }
}

/** Ends a lease this process holds (best effort: it also ends by its ttl). */
export function releaseLease(engine: Engine, fullKey: string, token: string | undefined): void {
  const store = engine.store
  if (token === undefined || store?.releaseLease === undefined) return
  const release = store.releaseLease.bind(store)
  void engine.shared?.guard('write', () => release(fullKey, token))
}
