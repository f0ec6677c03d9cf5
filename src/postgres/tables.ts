import type { Client } from 'pg'

import { CacheError } from '../index.js'
import type { ResolvedOptions } from './options.js'

/** A mapped table as the database names it. */
export interface ResolvedTable {
  /** `schema.table`, unquoted: how the outbox and the replication stream name it. */
  name: string
  /** `"schema"."table"`, for SQL. */
  sql: string
  entity: string
  key: string
  /** The table's replica identity: `d`efault, `f`ull, `i`ndex or `n`othing. */
  replicaIdentity: string
  /** The columns the replica identity sends for a delete or a key change. */
  identityColumns: readonly string[]
}

/** Quotes an identifier for SQL. */
export const ident = (name: string): string => `"${name.replaceAll('"', '""')}"`

/** Quotes a string literal for SQL. */
export const literal = (text: string): string => `'${text.replaceAll("'", "''")}'`

/**
 * Finds every table of `options.tables` and its key column (the one-column primary key unless
 * `key` is given). A missing table or column is an `E_INVALID_OPTION` naming it.
 */
export async function resolveTables(
  client: Client,
  options: ResolvedOptions,
): Promise<Map<string, ResolvedTable>> {
  const found = new Map<string, ResolvedTable>()
  for (const [table, { entity, key }] of options.tables) {
    const { rows } = await client.query<{
      oid: number
      schema: string
      name: string
      identity: string
      pk: string[] | null
      identity_index: string[] | null
    }>(
      `SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS name,
              c.relreplident AS identity,
              (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_index i
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                WHERE i.indrelid = c.oid AND i.indisprimary) AS pk,
              (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_index i
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                WHERE i.indrelid = c.oid AND i.indisreplident) AS identity_index
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.oid = to_regclass($1)`,
      [table],
    )
    const row = rows[0]
    if (row === undefined) {
      throw new CacheError(
        'E_INVALID_OPTION',
        `cachegraph: option \`tables\` names '${table}', which is not a table of this database`,
      )
    }
    let column: string
    if (key === undefined) {
      const [only, ...more] = row.pk ?? []
      if (only === undefined || more.length > 0) {
        throw new CacheError(
          'E_INVALID_OPTION',
          `cachegraph: option \`tables.${table}\` needs \`key\`: the table has ${row.pk === null ? 'no primary key' : 'a primary key of several columns'}`,
        )
      }
      column = only
    } else {
      column = key
      const { rowCount } = await client.query(
        'SELECT 1 FROM pg_attribute WHERE attrelid = $1 AND attname = $2 AND attnum > 0 AND NOT attisdropped',
        [row.oid, column],
      )
      if (rowCount === 0) {
        throw new CacheError(
          'E_INVALID_OPTION',
          `cachegraph: option \`tables.${table}.key\` names '${column}', which is not a column of ${row.schema}.${row.name}`,
        )
      }
    }
    const identityColumns =
      row.identity === 'd' ? (row.pk ?? []) : row.identity === 'i' ? (row.identity_index ?? []) : []
    found.set(`${row.schema}.${row.name}`, {
      name: `${row.schema}.${row.name}`,
      sql: `${ident(row.schema)}.${ident(row.name)}`,
      entity,
      key: column,
      replicaIdentity: row.identity,
      identityColumns,
    })
  }
  return found
}

/** Resolves the tables again for a new session (one may have been re-created meanwhile). */
export async function resolveTablesOnce(
  client: Client,
  context: { options: ResolvedOptions; tables: Map<string, ResolvedTable> },
): Promise<Map<string, ResolvedTable>> {
  const tables = await resolveTables(client, context.options)
  context.tables.clear()
  for (const [name, table] of tables) context.tables.set(name, table)
  return tables
}
