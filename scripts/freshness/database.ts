/**
 * The source of truth the cache sits in front of: rows `(id, version)` whose version only grows,
 * each write committing `version + 1`. PostgreSQL when it answers (a real database, real commit
 * latency), else plain Redis keys in a key space of their own under the run's prefix.
 */
import { Redis } from 'ioredis'
import pg from 'pg'

import type { DbKind } from './protocol.js'

/** Trust auth, database `test`, user `postgres` (the CI service); override for elsewhere. */
export const PG_URL = process.env.FRESHNESS_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

export interface Database {
  /** The committed version of a row. */
  read(id: number): Promise<number>
  /** Commits `version + 1` and returns it. */
  bump(id: number): Promise<number>
  /** PostgreSQL only: `bump`, and the id of the transaction that committed it (source writes). */
  bumpTx?(id: number): Promise<{ version: number; txid: bigint }>
  close(): Promise<void>
}

export interface DbPlace {
  kind: DbKind
  /** A table (PostgreSQL) or a key prefix (Redis), unique to the run. */
  table: string
}

/** PostgreSQL if it answers within a second, else Redis. */
export async function chooseDb(requested: DbKind | 'auto'): Promise<DbKind> {
  if (requested !== 'auto') return requested
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 1_000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
    return 'postgres'
  } catch {
    return 'redis'
  } finally {
    await client.end().catch(() => {})
  }
}

/** Creates the rows at version 0. */
export async function createRows(place: DbPlace, rows: number, redisUrl: string): Promise<void> {
  if (place.kind === 'postgres') {
    const client = new pg.Client({ connectionString: PG_URL })
    await client.connect()
    try {
      await client.query(`CREATE TABLE ${place.table} (id int PRIMARY KEY, version int NOT NULL)`)
      await client.query(
        `INSERT INTO ${place.table} SELECT g, 0 FROM generate_series(0, $1::int - 1) g`,
        [rows],
      )
    } finally {
      await client.end()
    }
    return
  }
  const redis = new Redis(redisUrl)
  try {
    const args = Array.from({ length: rows }, (_, id) => [`${place.table}:${id}`, '0']).flat()
    await redis.mset(...args)
  } finally {
    redis.disconnect()
  }
}

/** Drops the table (the Redis keys go with the run's prefix). */
export async function dropRows(place: DbPlace): Promise<void> {
  if (place.kind !== 'postgres') return
  const client = new pg.Client({ connectionString: PG_URL })
  await client.connect()
  try {
    await client.query(`DROP TABLE IF EXISTS ${place.table}`)
    // The outbox of source writes (source-writes.ts), if the run had any.
    await client.query(`DROP SCHEMA IF EXISTS ${place.table}_cdc CASCADE`)
  } finally {
    await client.end()
  }
}

/** A connection pool for one process. */
export function openDb(place: DbPlace, redisUrl: string, connections: number): Database {
  if (place.kind === 'postgres') {
    const pool = new pg.Pool({ connectionString: PG_URL, max: connections })
    const one = async (sql: string, id: number) => {
      const { rows } = await pool.query<{ version: number }>(sql, [id])
      if (rows[0] === undefined) throw new Error(`freshness: row ${id} is missing`)
      return rows[0].version
    }
    return {
      read: (id) => one(`SELECT version FROM ${place.table} WHERE id = $1`, id),
      bump: (id) =>
        one(`UPDATE ${place.table} SET version = version + 1 WHERE id = $1 RETURNING version`, id),
      bumpTx: async (id) => {
        const { rows } = await pool.query<{ version: number; txid: string }>(
          `UPDATE ${place.table} SET version = version + 1 WHERE id = $1
           RETURNING version, txid_current()::text AS txid`,
          [id],
        )
        if (rows[0] === undefined) throw new Error(`freshness: row ${id} is missing`)
        return { version: rows[0].version, txid: BigInt(rows[0].txid) }
      },
      close: () => pool.end(),
    }
  }
  const redis = new Redis(redisUrl, { connectionName: `cgfresh-db-${process.pid}` })
  return {
    read: async (id) => {
      const version = await redis.get(`${place.table}:${id}`)
      if (version === null) throw new Error(`freshness: row ${id} is missing`)
      return Number(version)
    },
    bump: (id) => redis.incr(`${place.table}:${id}`),
    close: async () => void (await redis.quit()),
  }
}
