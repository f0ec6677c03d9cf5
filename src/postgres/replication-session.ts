import pg from 'pg'

import { decode, toPgMicros, type Relation } from './pgoutput.js'
import { record, tagsOf, type Change } from './record.js'
import {
  checkReplicaIdentity,
  ensurePublicationAndSlot,
  replicationName,
} from './replication-setup.js'
import { clientConfig, type Session, type SessionContext } from './session.js'
import { literal, resolveTablesOnce } from './tables.js'

/** A committed transaction waiting to be recorded. */
interface Committed {
  changes: Change[]
  endLsn: bigint
  commitTime: number
}

/** The parts of pg's connection a replication stream uses (not in pg's public types). */
interface CopyConnection {
  on(event: 'copyData', listener: (message: { chunk: Buffer }) => void): void
  once(event: 'replicationStart', listener: () => void): void
  sendCopyFromChunk(chunk: Buffer): void
}

const lsnText = (lsn: bigint): string =>
  `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`

/**
 * Replication mode: streams the slot's changes (`pgoutput`, in commit order) over pg's
 * replication connection and reports a position to the server only once every transaction up
 * to it has been recorded. After a loss the server streams again from that position: at least
 * once, nothing skipped.
 */
export async function openReplicationSession(context: SessionContext): Promise<Session> {
  const { options, events, retry } = context
  const slot = replicationName(options.name)

  const admin = new pg.Client(clientConfig(options))
  admin.on('error', () => {}) // setup errors reach the query that fails
  await admin.connect()
  let position: string
  try {
    const tables = await resolveTablesOnce(admin, context)
    checkReplicaIdentity(tables.values())
    await ensurePublicationAndSlot(admin, slot, [...tables.values()])
    const { rows } = await admin.query<{ lsn: string | null }>(
      'SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1',
      [slot],
    )
    position = rows[0]?.lsn ?? '0/0'
  } finally {
    await admin.end().catch(() => {})
  }

  const client = new pg.Client({
    ...clientConfig(options),
    replication: 'database',
  } as pg.ClientConfig)
  let end!: (cause: unknown) => void
  const ended = new Promise<unknown>((resolve) => (end = resolve))
  client.on('error', (error) => end(error))
  client.on('end', () => end(new Error('cachegraph: the replication connection ended')))
  await client.connect()
  const connection = (client as unknown as { connection: CopyConnection }).connection

  let closed = false
  let acked = 0n // the position reported as flushed: everything up to it is recorded
  const relations = new Map<number, Relation & { keyIndex: number; entity: string | undefined }>()
  let open: Map<string, Set<string>> | undefined // entity → keys of the transaction streaming
  let openTime = 0
  const pending: Committed[] = []
  let flushing: Promise<void> | undefined

  const status = (replyNow = false): void => {
    if (closed) return
    const message = Buffer.alloc(34)
    message.write('r', 0)
    message.writeBigUInt64BE(acked, 1) // written
    message.writeBigUInt64BE(acked, 9) // flushed: the slot's confirmed position
    message.writeBigUInt64BE(acked, 17) // applied
    message.writeBigUInt64BE(toPgMicros(Date.now()), 25)
    message.writeUInt8(replyNow ? 1 : 0, 33)
    connection.sendCopyFromChunk(message)
  }

  const flush = (): void => {
    if (flushing !== undefined || pending.length === 0) return
    flushing = (async () => {
      while (pending.length > 0 && !closed) {
        const batch = pending.splice(0)
        const changes = batch.flatMap((committed) => committed.changes)
        const tags = tagsOf(changes)
        await record(options.cache, tags, options.maxTagsPerCall, retry, events)
        acked = (batch.at(-1) as Committed).endLsn
        status()
        if (tags.length > 0) {
          const oldest = Math.min(...batch.map((committed) => committed.commitTime))
          events.emit('invalidate', {
            tags,
            changes: changes.length,
            position: lsnText(acked),
            lagMs: Math.max(0, Date.now() - oldest),
          })
        }
      }
    })()
      .catch((error: unknown) => end(error))
      .finally(() => {
        flushing = undefined
        flush()
      })
  }

  const onMessage = (data: Buffer): void => {
    const message = decode(data)
    switch (message.type) {
      case 'begin':
        open = new Map()
        openTime = message.commitTime
        break
      case 'relation': {
        const table = context.tables.get(message.relation.name)
        relations.set(message.id, {
          ...message.relation,
          entity: table?.entity,
          keyIndex: table === undefined ? -1 : message.relation.columns.indexOf(table.key),
        })
        break
      }
      case 'change': {
        const relation = relations.get(message.relationId)
        if (relation?.entity === undefined || open === undefined) break
        let keys = open.get(relation.entity)
        if (keys === undefined) open.set(relation.entity, (keys = new Set()))
        for (const tuple of message.tuples) {
          const key = tuple[relation.keyIndex]
          if (key !== null && key !== undefined) keys.add(key)
        }
        break
      }
      case 'truncate':
        // No row keys are sent: the lists of the type are invalidated (docs/postgres.md).
        for (const id of message.relationIds) {
          const entity = relations.get(id)?.entity
          if (entity !== undefined && open !== undefined && !open.has(entity))
            open.set(entity, new Set())
        }
        break
      case 'commit': {
        const changes = [...(open ?? [])].map(([entity, keys]) => ({ entity, keys: [...keys] }))
        open = undefined
        pending.push({
          changes,
          endLsn: message.endLsn,
          commitTime: message.commitTime || openTime,
        })
        flush()
        break
      }
      default:
        break
    }
  }

  connection.on('copyData', ({ chunk }) => {
    try {
      if (chunk[0] === 0x77) {
        // XLogData: 'w', start, end, send time, then the pgoutput message.
        onMessage(chunk.subarray(25))
      } else if (chunk[0] === 0x6b) {
        // Keepalive: 'k', the server's WAL end, time, reply requested.
        const walEnd = chunk.readBigUInt64BE(1)
        // Nothing received is unrecorded: every transaction up to walEnd has been sent, so the
        // slot may move there (else an idle slot would hold WAL of other databases forever).
        if (
          open === undefined &&
          pending.length === 0 &&
          flushing === undefined &&
          walEnd > acked
        ) {
          acked = walEnd
        }
        if (chunk[17] === 1) status()
      }
    } catch (error) {
      end(error)
    }
  })

  const started = new Promise<void>((resolve) => connection.once('replicationStart', resolve))
  client
    .query(
      `START_REPLICATION SLOT ${slot} LOGICAL 0/0 (proto_version '1', publication_names ${literal(slot)})`,
    )
    .then(
      () => end(new Error('cachegraph: the replication stream ended')),
      (error: unknown) => end(error),
    )
  const failed = ended.then((cause) =>
    Promise.reject(cause instanceof Error ? cause : new Error(String(cause))),
  )
  try {
    await Promise.race([started, failed])
  } catch (error) {
    await client.end().catch(() => {})
    throw error
  }
  failed.catch(() => {})
  events.emit('start', { mode: 'replication', position })
  const idle = setInterval(() => status(), options.idleMs)
  idle.unref()

  return {
    ended,
    close: async () => {
      clearInterval(idle)
      await flushing
      status() // what was recorded is not streamed again to the next session
      closed = true
      end(undefined)
      await client.end().catch(() => {})
    },
  }
}
