/**
 * The cached functions every worker defines the same way (same names, so they share entries):
 * a row, and a pair of rows built from two nested cached calls — the nesting is what makes an
 * outer value's "as of" depend on its inputs' (docs/invalidation.md, "Laundering through nesting").
 */
import type { Cache, Memoized } from '../../src/index.js'
import type { Database } from './database.js'

export interface Row {
  id: number
  version: number
}

export interface Pair {
  a: Row
  b: Row
}

export interface Model {
  getRow: Memoized<[id: number], Row>
  getPair: Memoized<[a: number, b: number], Pair>
  /** Full keys as the cache's `hit` / `miss` events report them. */
  rowKey(id: number): string
  pairKey(a: number, b: number): string
}

/**
 * Which row a read or a write is about: half of the time one of a few hot rows, else any row.
 * Hot rows are written often enough that a write regularly lands while a load of the same row is
 * still running (what the in-flight guard is for); the many cold ones stay put in the L1s long
 * enough for a missed invalidation to show (what gap detection is for).
 */
export function pickRow(rows: number): number {
  const hot = Math.min(HOT_ROWS, rows)
  return Math.floor(Math.random() * (Math.random() < HOT_SHARE ? hot : rows))
}

const HOT_ROWS = 2
const HOT_SHARE = 0.5

/** Rows live long (invalidations end them); pairs are short-lived, so they are rebuilt often. */
export const ROW_TTL_MS = 5_000
const PAIR_TTL_MS = 300

/** `slow.extraMs`: added to every loader's delay while the slow-loaders fault lasts. */
export function defineModel(
  cache: Cache,
  namespace: string,
  db: Database,
  loaderDelayMs: number,
  slow: { readonly extraMs: number } = { extraMs: 0 },
): Model {
  // The delay comes after the database read: it widens the window in which a write can commit
  // and invalidate while the load that read the old version is still running.
  const pause = () => {
    const ms = Math.random() * loaderDelayMs + slow.extraMs
    return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : undefined
  }
  const getRow = cache.wrap(
    async (id: number): Promise<Row> => {
      const version = await db.read(id)
      await pause()
      return { id, version }
    },
    { name: 'row', ttl: ROW_TTL_MS, tags: (args) => [`row:${args[0]}`] },
  )
  const getPair = cache.wrap(
    async (a: number, b: number): Promise<Pair> => {
      const [ra, rb] = await Promise.all([getRow(a), getRow(b)])
      await pause()
      return { a: ra, b: rb }
    },
    { name: 'pair', ttl: PAIR_TTL_MS },
  )
  const full = (key: string) => `${namespace}::${key}`
  return {
    getRow,
    getPair,
    rowKey: (id) => full(getRow.key(id)),
    pairKey: (a, b) => full(getPair.key(a, b)),
  }
}
