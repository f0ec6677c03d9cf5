import pg from 'pg'

import { record, tagsOf, type Change } from './record.js'
import { clientConfig, type Session, type SessionContext } from './session.js'
import { ident, resolveTablesOnce } from './tables.js'
import { installTriggers, outboxNames } from './triggers-install.js'

/** `xmin:xmax:xip,...`, as `txid_snapshot` prints. */
const SNAPSHOT = /^\d+:\d+:[\d,]*$/

/**
 * Triggers mode: reads the outbox in commit order from a stored position.
 *
 * The position is a transaction snapshot (`txid_current_snapshot()`), not an outbox id: ids come
 * from a sequence, which is not commit-ordered, so a transaction holding an earlier id may
 * commit after a later one was read. A poll takes a new snapshot S' and reads exactly the rows
 * whose transaction was not visible in the stored snapshot S — those with `xid >= xmax(S)` or
 * `xid` in `xip(S)` (still running when S was taken) — and that S' sees. Every row is read in
 * the first poll whose snapshot sees its transaction committed: once, never skipped, and each
 * batch holds only transactions committed after all those of the previous batch.
 */
export async function openTriggerSession(context: SessionContext): Promise<Session> {
  const { options, events, retry } = context
  const names = outboxNames(options.schema)
  const client = new pg.Client(clientConfig(options))
  let end!: (cause: unknown) => void
  const ended = new Promise<unknown>((resolve) => (end = resolve))
  client.on('error', (error) => end(error))
  client.on('end', () => end(new Error('cachegraph: the PostgreSQL connection ended')))
  await client.connect()

  let closed = false
  let position = ''
  let lastPrune = 0
  let polling: Promise<void> | undefined
  let again = false

  try {
    const tables = await resolveTablesOnce(client, context)
    if (context.first) await installTriggers(client, options.schema, tables.values())
    // LISTEN before reading: a change committed from here on is either seen by the first poll
    // or notified after it.
    await client.query(`LISTEN ${ident(names.channel)}`)
    await client.query(
      `INSERT INTO ${names.positions} (name, snapshot) VALUES ($1, txid_current_snapshot())
       ON CONFLICT (name) DO NOTHING`,
      [options.name],
    )
    const { rows } = await client.query<{ snapshot: string }>(
      `SELECT snapshot::text AS snapshot FROM ${names.positions} WHERE name = $1`,
      [options.name],
    )
    position = (rows[0] as { snapshot: string }).snapshot
    events.emit('start', { mode: 'triggers', position })
  } catch (error) {
    await client.end().catch(() => {})
    throw error
  }

  const poll = async (): Promise<void> => {
    // One round trip: the transaction's first statement fixes its snapshot, so the rows read
    // are exactly the ones that snapshot sees. The position is inlined (the simple protocol
    // takes no parameters); it is a snapshot this listener read from the server, checked.
    if (!SNAPSHOT.test(position)) throw new Error(`cachegraph: bad stored position ${position}`)
    const from = `'${position}'::txid_snapshot`
    let results: pg.QueryResult[]
    try {
      results = (await client.query(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
        SELECT txid_current_snapshot()::text AS s;
        SELECT tbl, keys, (extract(epoch FROM at) * 1000)::float8 AS at FROM ${names.outbox}
         WHERE xid >= txid_snapshot_xmax(${from})
            OR xid = ANY(ARRAY(SELECT txid_snapshot_xip(${from})));
        COMMIT`)) as unknown as pg.QueryResult[]
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {})
      throw error
    }
    const snapshot = (results[1]?.rows[0] as { s: string }).s
    const rows = (results[2]?.rows ?? []) as { tbl: string; keys: string[]; at: number }[]
    if (snapshot === position) return
    const changes: Change[] = []
    let oldest = Infinity
    for (const { tbl, keys, at } of rows) {
      const table = context.tables.get(tbl)
      if (table === undefined) continue // a table another listener of this outbox maps
      changes.push({ entity: table.entity, keys })
      oldest = Math.min(oldest, at)
    }
    const tags = tagsOf(changes)
    if (tags.length > 0) {
      await record(options.cache, tags, options.maxTagsPerCall, retry, events)
    }
    await client.query(
      `UPDATE ${names.positions} SET snapshot = $2::txid_snapshot, updated_at = now() WHERE name = $1`,
      [options.name, snapshot],
    )
    position = snapshot
    if (tags.length > 0) {
      events.emit('invalidate', {
        tags,
        changes: changes.length,
        position,
        lagMs: Math.max(0, Date.now() - oldest),
      })
    }
    if (Date.now() - lastPrune >= options.idleMs) {
      lastPrune = Date.now()
      // Rows every listener of this outbox has read: their transactions are visible in every
      // stored position.
      await client.query(
        `DELETE FROM ${names.outbox}
          WHERE xid < (SELECT min(txid_snapshot_xmin(snapshot)) FROM ${names.positions})`,
      )
    }
  }

  // One poll at a time; a notification during a poll asks for one more after it.
  const schedule = (): void => {
    if (closed) return
    if (polling !== undefined) {
      again = true
      return
    }
    polling = (async () => {
      do {
        again = false
        await poll()
      } while (again && !closed)
    })()
      .catch((error: unknown) => end(error))
      .finally(() => (polling = undefined))
  }

  client.on('notification', schedule)
  const idle = setInterval(schedule, options.idleMs)
  idle.unref()
  schedule() // catch up on everything committed while this listener was away

  return {
    ended,
    close: async () => {
      closed = true
      clearInterval(idle)
      await polling?.catch(() => {})
      end(undefined)
      await client.end().catch(() => {})
    },
  }
}
