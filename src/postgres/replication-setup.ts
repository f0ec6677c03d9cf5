import type { Client } from 'pg'

import { CacheError } from '../index.js'
import { ident, type ResolvedTable } from './tables.js'

/** The slot and publication of a listener: both `cachegraph_<name>`. */
export const replicationName = (name: string): string => `cachegraph_${name}`

/**
 * A DELETE (or a key change) carries only the columns of the table's replica identity: the key
 * column must be among them, or the old key would be lost.
 */
export function checkReplicaIdentity(tables: Iterable<ResolvedTable>): void {
  for (const table of tables) {
    if (table.replicaIdentity === 'f' || table.identityColumns.includes(table.key)) continue
    throw new CacheError(
      'E_INVALID_OPTION',
      `cachegraph: option \`tables\`: the key column '${table.key}' of ${table.name} is not in its replica identity, so a DELETE would not carry it; run ALTER TABLE ${table.sql} REPLICA IDENTITY FULL (or USING INDEX with a unique index on it)`,
    )
  }
}

/**
 * Creates the publication (or sets its tables) and the slot, each only when missing or
 * different. A new slot starts at the current position of the WAL.
 */
export async function ensurePublicationAndSlot(
  client: Client,
  name: string,
  tables: readonly ResolvedTable[],
): Promise<void> {
  const list = tables.map((table) => table.sql).join(', ')
  const publication = await client.query<{ name: string }>(
    `SELECT schemaname || '.' || tablename AS name FROM pg_publication_tables WHERE pubname = $1`,
    [name],
  )
  const exists = await client.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [name])
  if (exists.rowCount === 0) {
    await client.query(`CREATE PUBLICATION ${ident(name)} FOR TABLE ${list}`)
  } else {
    const current = new Set(publication.rows.map((row) => row.name))
    const same = current.size === tables.length && tables.every((table) => current.has(table.name))
    if (!same) await client.query(`ALTER PUBLICATION ${ident(name)} SET TABLE ${list}`)
  }
  const slot = await client.query<{ plugin: string }>(
    'SELECT plugin FROM pg_replication_slots WHERE slot_name = $1',
    [name],
  )
  if (slot.rows[0] === undefined) {
    await client.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [name])
  } else if (slot.rows[0].plugin !== 'pgoutput') {
    throw new CacheError(
      'E_INVALID_OPTION',
      `cachegraph: option \`name\`: the slot ${name} exists with the plugin ${slot.rows[0].plugin}, not pgoutput`,
    )
  }
}
