/**
 * The write paths that call the cache itself after committing the row's next version: `api`
 * (`invalidate` of the row's tag), `delete` (delete-on-write of the row's entry) and `set`
 * (write-through). The others go through the app, the service or the change capture (writer.ts).
 */
import type { Cache } from '../../src/index.js'
import type { Database } from './database.js'
import { type Model, ROW_TTL_MS } from './model.js'
import type { CallerOp } from './protocol.js'

/**
 * How a write's invalidation ended: resolved (with its step, -1 if unknown; `acked` when the
 * whole fleet acknowledged it), or not recorded.
 */
export type Invalidated =
  { seq: number; acked?: boolean } | { notRecorded: string } | 'queued' | undefined

/** A write committed, and how its invalidation ended. */
export interface Committed {
  version: number
  invalidated: Invalidated
}

export const isNotRecorded = (error: unknown): boolean =>
  typeof error === 'object' &&
  error !== null &&
  (error as { code?: unknown }).code === 'E_INVALIDATION_NOT_RECORDED'

export interface CacheWriteContext {
  cache: Cache
  db: Database
  model: Model
  /** `api` writes invalidate with `{ ack: true }`. */
  ack: boolean
  onError: (error: unknown, op: CallerOp) => void
}

/** Commits row `id`'s next version, then tells the cache by `via`; `undefined`: failed (reported). */
export async function writeThroughCache(
  ctx: CacheWriteContext,
  id: number,
  via: 'api' | 'delete' | 'set',
): Promise<Committed | undefined> {
  const { cache, db, model, onError } = ctx
  const version = await db.bump(id)
  try {
    switch (via) {
      case 'api': {
        const { seq, fleet } = await cache.invalidate(`row:${id}`, { ack: ctx.ack })
        return {
          version,
          invalidated: { seq, acked: fleet !== undefined && fleet.late.length === 0 },
        }
      }
      case 'delete':
        // Delete-on-write: the row's entry goes (and what was built from it), not its tag.
        await cache.delete(model.getRow.key(id))
        return { version, invalidated: { seq: -1 } }
      case 'set': {
        // Write-through: the new row is the key's new value. A set that is not stored drops the
        // key's older value all the same (docs/faults.md); if the store was out, that was queued
        // for replay, and the write is judged once the queue drained, as a rejected invalidation.
        const stored = await cache.set(
          model.getRow.key(id),
          { id, version },
          { tags: [`row:${id}`], ttl: ROW_TTL_MS },
        )
        if (stored || cache.stats().l2.replayQueue === 0) {
          return { version, invalidated: { seq: -1 } }
        }
        return { version, invalidated: { notRecorded: 'set not stored, queued for replay' } }
      }
    }
  } catch (error) {
    // Rejected, applied here and queued for replay: the writer was told, no caller error.
    if (!isNotRecorded(error)) return void onError(error, 'invalidate')
    return { version, invalidated: { notRecorded: (error as Error).message } }
  }
}
