import type { Client } from 'pg'

import { ident, literal, type ResolvedTable } from './tables.js'

/** Names of what triggers mode keeps in its schema. */
export interface OutboxNames {
  outbox: string
  positions: string
  capture: string
  /** The `NOTIFY` channel, as given to `pg_notify` (LISTEN takes it quoted). */
  channel: string
}

export function outboxNames(schema: string): OutboxNames {
  const s = ident(schema)
  return {
    outbox: `${s}.outbox`,
    positions: `${s}.positions`,
    capture: `${s}.capture`,
    channel: `${schema}_outbox`.slice(0, 63),
  }
}

/**
 * The trigger function. It runs once per statement (not per row) with the statement's
 * transition tables, so a statement touching 100k rows writes one outbox row holding the
 * distinct keys. UPDATE records old and new keys: a key change invalidates both.
 */
function captureFunction(names: OutboxNames): string {
  return `
DECLARE
  changed text[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    EXECUTE format('SELECT array_agg(DISTINCT k) FROM (SELECT (%1$I)::text AS k FROM cachegraph_new) c WHERE k IS NOT NULL', TG_ARGV[0]) INTO changed;
  ELSIF TG_OP = 'UPDATE' THEN
    EXECUTE format('SELECT array_agg(DISTINCT k) FROM (SELECT (%1$I)::text AS k FROM cachegraph_old UNION ALL SELECT (%1$I)::text FROM cachegraph_new) c WHERE k IS NOT NULL', TG_ARGV[0]) INTO changed;
  ELSIF TG_OP = 'DELETE' THEN
    EXECUTE format('SELECT array_agg(DISTINCT k) FROM (SELECT (%1$I)::text AS k FROM cachegraph_old) c WHERE k IS NOT NULL', TG_ARGV[0]) INTO changed;
  ELSE
    changed := '{}';
  END IF;
  IF changed IS NOT NULL THEN
    INSERT INTO ${names.outbox} (tbl, keys) VALUES (TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, changed);
    PERFORM pg_notify(${literal(names.channel)}, '');
  END IF;
  RETURN NULL;
END
`
}

const TRIGGERS = [
  ['insert', 'AFTER INSERT', 'REFERENCING NEW TABLE AS cachegraph_new'],
  ['update', 'AFTER UPDATE', 'REFERENCING OLD TABLE AS cachegraph_old NEW TABLE AS cachegraph_new'],
  ['delete', 'AFTER DELETE', 'REFERENCING OLD TABLE AS cachegraph_old'],
  ['truncate', 'AFTER TRUNCATE', ''],
] as const

/**
 * Installs the outbox, the positions table, the trigger function and each table's triggers.
 * Idempotent, and a no-op when all is in place already: nothing is replaced that is the same
 * (no lock is taken on a table whose triggers are current). Concurrent installers queue on an
 * advisory lock.
 */
export async function installTriggers(
  client: Client,
  schema: string,
  tables: Iterable<ResolvedTable>,
): Promise<void> {
  const names = outboxNames(schema)
  const body = captureFunction(names)
  await client.query('BEGIN')
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`cachegraph:${schema}`])
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${ident(schema)}`)
    await client.query(`CREATE TABLE IF NOT EXISTS ${names.outbox} (
      id bigserial PRIMARY KEY,
      xid bigint NOT NULL DEFAULT txid_current(),
      tbl text NOT NULL,
      keys text[] NOT NULL,
      at timestamptz NOT NULL DEFAULT clock_timestamp())`)
    await client.query(`CREATE INDEX IF NOT EXISTS outbox_xid ON ${names.outbox} (xid)`)
    await client.query(`CREATE TABLE IF NOT EXISTS ${names.positions} (
      name text PRIMARY KEY,
      snapshot txid_snapshot NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now())`)
    const current = await client.query<{ src: string; definer: boolean }>(
      `SELECT prosrc AS src, prosecdef AS definer FROM pg_proc WHERE oid = to_regprocedure($1)`,
      [`${names.capture}()`],
    )
    if (current.rows[0]?.src !== body || !current.rows[0].definer) {
      // SECURITY DEFINER: roles that write the tables need no rights on the outbox; a fixed
      // search_path so that no object of theirs can stand in for a built-in.
      await client.query(
        `CREATE OR REPLACE FUNCTION ${names.capture}() RETURNS trigger LANGUAGE plpgsql
         SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS ${literal(body)}`,
      )
    }
    for (const table of tables) await installTableTriggers(client, schema, names, table)
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  }
}

async function installTableTriggers(
  client: Client,
  schema: string,
  names: OutboxNames,
  table: ResolvedTable,
): Promise<void> {
  const wanted = TRIGGERS.map(([op]) => `${schema}_capture_${op}`.slice(0, 63))
  const { rows } = await client.query<{ name: string; fn: boolean; args: Buffer }>(
    `SELECT tgname AS name, tgfoid = to_regprocedure($3) AS fn, tgargs AS args FROM pg_trigger
      WHERE tgrelid = to_regclass($1) AND tgname = ANY($2)`,
    [table.sql, wanted, `${names.capture}()`],
  )
  const args = Buffer.from(`${table.key}\0`)
  for (const [i, [, event, referencing]] of TRIGGERS.entries()) {
    const name = wanted[i] as string
    const found = rows.find((row) => row.name === name)
    if (found?.fn === true && found.args.equals(args)) continue
    if (found !== undefined) await client.query(`DROP TRIGGER ${ident(name)} ON ${table.sql}`)
    await client.query(
      `CREATE TRIGGER ${ident(name)} ${event} ON ${table.sql} ${referencing}
       FOR EACH STATEMENT EXECUTE FUNCTION ${names.capture}(${literal(table.key)})`,
    )
  }
}
