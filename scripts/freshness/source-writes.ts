/**
 * Writes that only commit to PostgreSQL (`--write-paths source`): nobody calls `invalidate()`.
 * The writer process runs a change capture of the rows table (`cachegraph/postgres`, triggers
 * mode, a listener of its own) on its cache, as `cachegraph serve --postgres` would in a
 * service; the capture invalidates `row:<id>` (`entityTag('row', id)`) after the commit.
 *
 * A write is resolved when the capture has recorded a batch whose position (a transaction
 * snapshot) sees the write's transaction — `txid_current()` of the write, returned by the
 * UPDATE. The window a reader may see the old row is then the capture's lag plus the bus.
 * Its step (for the bus-receipt rules of the judge) is the `seq` of the `invalidate()` call that
 * carried the row's tag in that batch.
 */
import type * as Core from '../../src/index.js'
import type * as PostgresEntry from '../../src/postgres/index.js'
import { Samples } from './samples.js'

export interface SourceWriteHandlers {
  /** The capture recorded the invalidation of the write (`seq`: its step, -1 unknown). */
  resolved(row: number, version: number, seq: number): void
}

/** `xmin:xmax:xip,...` sees the committed transaction `txid`. */
function sees(snapshot: string, txid: bigint): boolean {
  const [xmin, xmax, xip = ''] = snapshot.split(':')
  if (txid < BigInt(xmin as string)) return true
  if (txid >= BigInt(xmax as string)) return false
  return !xip.split(',').some((running) => running !== '' && BigInt(running) === txid)
}

export class SourceWrites {
  readonly #capture: PostgresEntry.PostgresInvalidation
  readonly #pending: { row: number; version: number; txid: bigint; committedAt: number }[] = []
  /** Row tag → step of the last `invalidate()` of the capture that carried it. */
  readonly #seqOf = new Map<string, number>()
  readonly lag = new Samples()
  #drained: (() => void) | undefined

  constructor(
    postgres: typeof PostgresEntry,
    cache: Core.Cache,
    connectionString: string,
    table: string,
    now: () => number,
    handlers: SourceWriteHandlers,
  ) {
    this.#capture = postgres.postgresInvalidation({
      // Pass-through that notes each tag's step: the capture itself needs only `invalidate`.
      cache: {
        invalidate: async (tags) => {
          const result = await cache.invalidate(tags)
          for (const tag of tags) this.#seqOf.set(tag, result.seq)
          return result
        },
      },
      connectionString,
      tables: { [table]: 'row' },
      name: `cgfresh_${process.pid}`,
      schema: `${table}_cdc`,
    })
    this.#capture.on('invalidate', ({ position }) => {
      const at = now()
      for (let i = 0; i < this.#pending.length;) {
        const write = this.#pending[i]!
        if (!sees(position, write.txid)) {
          i++
          continue
        }
        this.#pending.splice(i, 1)
        this.lag.add(at - write.committedAt)
        handlers.resolved(write.row, write.version, this.#seqOf.get(`row:${write.row}`) ?? -1)
      }
      if (this.#pending.length === 0) this.#drained?.()
    })
  }

  start(): Promise<void> {
    return this.#capture.start()
  }

  /** The write `version` of `row` committed in transaction `txid` at `committedAt`. */
  committed(row: number, version: number, txid: bigint, committedAt: number): void {
    this.#pending.push({ row, version, txid, committedAt })
  }

  /** Waits (at most `ms`) for the capture to record every write; how many it did not. */
  async drain(ms: number): Promise<number> {
    if (this.#pending.length > 0) {
      await new Promise<void>((resolve) => {
        this.#drained = resolve
        setTimeout(resolve, ms).unref()
      })
    }
    await this.#capture.close()
    return this.#pending.length
  }
}
