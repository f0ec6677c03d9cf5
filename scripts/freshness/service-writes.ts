/**
 * A writer's invalidations through the service, sent as an application sends them: queued with
 * the client and not awaited, so the writer keeps writing while the service restarts, and its
 * client holds everything queued meanwhile — which must all get through.
 *
 * A write is resolved when the service answered for it. The client coalesces and batches, and
 * the same row may be queued again while its previous invalidation is in flight, so the row's tag
 * alone cannot say which write an answer covers. Each write's invalidation carries a tag of its
 * own, queued right after the row's: the client sends its queue in order, one request at a time,
 * so once the service answered for that mark it has applied the row's invalidation too (in the
 * same request or an earlier one). Resolving at the mark's answer is never early, at worst late,
 * which can hide a stale read but never invent one.
 */
import type { InvalidationClient } from '../../src/client/index.js'

export interface ServiceWriteHandlers {
  /** The service applied the invalidation of the write (`seq`: its answer's step, -1 unknown). */
  resolved(row: number, version: number, seq: number, acked: boolean): void
  /** The client gave invalidations up: lost, a failure of the run. */
  lost(error: Error, count: number): void
}

export class ServiceWrites {
  readonly #client: InvalidationClient
  readonly #handlers: ServiceWriteHandlers
  /** Mark tag → the write it stands for. */
  readonly #pending = new Map<string, { row: number; version: number }>()
  #n = 0

  constructor(client: InvalidationClient, handlers: ServiceWriteHandlers) {
    this.#client = client
    this.#handlers = handlers
    client.on('sent', ({ items, body }) => {
      const answer = body as { seq?: unknown; fleet?: { late?: unknown[] } } | null
      const seq = typeof answer?.seq === 'number' ? answer.seq : -1
      const acked = answer?.fleet?.late?.length === 0
      const tags = new Set(items.map((item) => ('tag' in item ? item.tag : '')))
      for (const tag of tags) {
        const write = this.#pending.get(tag)
        if (write === undefined) continue
        this.#pending.delete(tag)
        // Acknowledged only when the row's own invalidation was in the acknowledged request.
        const rowAcked = acked && tags.has(`row:${write.row}`)
        this.#handlers.resolved(write.row, write.version, seq, rowAcked)
      }
    })
    client.on('dropped', ({ items, error, reason }) => {
      for (const item of items) if ('tag' in item) this.#pending.delete(item.tag)
      this.#handlers.lost(error ?? new Error(`dropped: ${reason}`), items.length)
    })
  }

  /** Queues the invalidation of the row's write `version`; returns at once. */
  send(row: number, version: number): void {
    const mark = `freshness-mark:${process.pid}:${++this.#n}`
    this.#pending.set(mark, { row, version })
    this.#client.invalidate([`row:${row}`, mark])
  }

  /** Waits until the client sent (or gave up) everything; how many writes stay unanswered. */
  async drain(): Promise<number> {
    await this.#client.flush()
    return this.#pending.size
  }
}
