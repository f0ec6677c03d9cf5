/**
 * A decoder for the messages of PostgreSQL's `pgoutput` plugin, protocol version 1 (PostgreSQL
 * docs, "Logical Replication Message Formats"): only what change capture needs — transaction
 * bounds, relations, and the key column of inserted, updated and deleted rows.
 */

/** A relation as the stream describes it (sent before its first change in a session). */
export interface Relation {
  /** `schema.table`. */
  name: string
  columns: readonly string[]
}

export type Message =
  | { type: 'begin'; commitTime: number }
  | { type: 'commit'; endLsn: bigint; commitTime: number }
  | { type: 'relation'; id: number; relation: Relation }
  /** The old tuple (when sent) and the new one, or the old key of a delete. */
  | { type: 'change'; relationId: number; tuples: (readonly (string | null)[])[] }
  | { type: 'truncate'; relationIds: number[] }
  | { type: 'other' }

const EPOCH_2000_MS = 946_684_800_000

/** Microseconds since 2000-01-01 (PostgreSQL's epoch) to Unix milliseconds. */
const toMs = (micros: bigint): number => Number(micros / 1000n) + EPOCH_2000_MS

/** Unix milliseconds to microseconds since 2000-01-01. */
export const toPgMicros = (ms: number): bigint => BigInt(ms - EPOCH_2000_MS) * 1000n

class Reader {
  #at = 0
  constructor(readonly buffer: Buffer) {}
  byte(): number {
    return this.buffer.readUInt8(this.#at++)
  }
  int16(): number {
    const value = this.buffer.readInt16BE(this.#at)
    this.#at += 2
    return value
  }
  int32(): number {
    const value = this.buffer.readInt32BE(this.#at)
    this.#at += 4
    return value
  }
  int64(): bigint {
    const value = this.buffer.readBigUInt64BE(this.#at)
    this.#at += 8
    return value
  }
  string(): string {
    const end = this.buffer.indexOf(0, this.#at)
    const value = this.buffer.toString('utf8', this.#at, end)
    this.#at = end + 1
    return value
  }
  bytes(length: number): Buffer {
    const value = this.buffer.subarray(this.#at, this.#at + length)
    this.#at += length
    return value
  }
  /** TupleData: each column as text, `null` when null or an unchanged TOASTed value. */
  tuple(): (string | null)[] {
    const count = this.int16()
    const values: (string | null)[] = []
    for (let i = 0; i < count; i++) {
      const kind = String.fromCharCode(this.byte())
      if (kind === 't' || kind === 'b') values.push(this.bytes(this.int32()).toString('utf8'))
      else values.push(null) // 'n' null, 'u' unchanged TOAST
    }
    return values
  }
}

/** Decodes one `pgoutput` message (the payload of an XLogData). */
export function decode(data: Buffer): Message {
  const r = new Reader(data)
  switch (String.fromCharCode(r.byte())) {
    case 'B': {
      r.int64() // final LSN
      return { type: 'begin', commitTime: toMs(r.int64()) }
    }
    case 'C': {
      r.byte() // flags
      r.int64() // commit LSN
      const endLsn = r.int64()
      return { type: 'commit', endLsn, commitTime: toMs(r.int64()) }
    }
    case 'R': {
      const id = r.int32()
      const schema = r.string()
      const table = r.string()
      r.byte() // replica identity
      const count = r.int16()
      const columns: string[] = []
      for (let i = 0; i < count; i++) {
        r.byte() // flags
        columns.push(r.string())
        r.int32() // type
        r.int32() // type modifier
      }
      return {
        type: 'relation',
        id,
        // pgoutput sends an empty namespace for pg_catalog only.
        relation: { name: `${schema === '' ? 'pg_catalog' : schema}.${table}`, columns },
      }
    }
    case 'I': {
      const relationId = r.int32()
      r.byte() // 'N'
      return { type: 'change', relationId, tuples: [r.tuple()] }
    }
    case 'U': {
      const relationId = r.int32()
      const tuples: (string | null)[][] = []
      const kind = String.fromCharCode(r.byte())
      if (kind === 'K' || kind === 'O') {
        tuples.push(r.tuple()) // the old key (key changed) or old row (REPLICA IDENTITY FULL)
        r.byte() // 'N'
      }
      tuples.push(r.tuple())
      return { type: 'change', relationId, tuples }
    }
    case 'D': {
      const relationId = r.int32()
      r.byte() // 'K' or 'O'
      return { type: 'change', relationId, tuples: [r.tuple()] }
    }
    case 'T': {
      const count = r.int32()
      r.byte() // options
      const relationIds: number[] = []
      for (let i = 0; i < count; i++) relationIds.push(r.int32())
      return { type: 'truncate', relationIds }
    }
    default:
      return { type: 'other' } // Origin, Type, Message
  }
}
