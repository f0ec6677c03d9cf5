import type { Cluster } from 'ioredis'

import { entryKey, slotKeys } from './keys.js'
import { PUT_ENTRY, STATE } from './cluster-scripts.js'
import {
  acquireLease,
  checkPrefix,
  processOrigin,
  releaseLease,
  runScript,
  scanNode,
  script,
} from './runner.js'
import {
  mergeReads,
  mergeSnapshots,
  mergeWrites,
  mergeProven,
  parseEntry,
  parseProven,
  parseSnapshot,
  type ReadReply,
  tagRecords,
} from './reply.js'
import { entrySize, inTurn, MAX_READ_ITEMS, parts } from '../stores/batch-limits.js'
import { STEPS } from './steps-script.js'
import { checkCall, checkInParts, invalidateInSteps, StepBatch, writeReply } from './step-batch.js'
import { RecordsTrim, type TrimResult } from './records-trim.js'
import type {
  Store,
  StoreCheckedEntry,
  StoreEntry,
  StoreInvalidateResult,
  StoreProvenRead,
  StoreReadResult,
  StoreScanOptions,
  StoreScanPage,
  StoreWriteOptions,
  StoreWriteResult,
  StoreInvalidateOptions,
} from '../stores/store.js'

const SCRIPTS = {
  state: script(STATE),
  steps: script(STEPS),
  put: script(PUT_ENTRY),
}

/**
 * The shared tier on Redis Cluster. The sequence, epoch, floor and tag records live in the hash
 * slot of `{prefix}`; entries are spread over the cluster by key.
 *
 * - read: the entries' `GET`s and the sequence go out in parallel (one round trip); when
 *   entries were found, one more call reads their tag records (a second round trip). An
 *   unchecked read (for a process whose bus keeps its records complete) is the first round trip
 *   alone.
 * - write: one script in the `{prefix}` slot takes a fresh sequence for superseding writes and
 *   checks every entry's tags; then each accepted entry is written by a script in its own slot,
 *   all in parallel (two round trips). The check and the entry write cannot be one atomic step
 *   across slots; an invalidation landing between them cannot make the entry servable, because
 *   every read validates entries against the tag records again.
 * - invalidate: one script in the `{prefix}` slot (one round trip).
 */
export class RedisClusterStore implements Store {
  readonly name = 'redis-cluster'
  readonly client: Cluster
  readonly prefix: string
  readonly #slotKey: string
  readonly #epochKey: string
  /** `{P}:pub`: read with unchecked reads (see `StoreReadResult.published`). */
  readonly #publishedKey: string
  readonly #floorKey: string
  readonly #watermarkKey: string
  readonly #ownsClient: boolean
  /** Who sends this store's steps (as {@link RedisStore.origin}). */
  origin = processOrigin()
  /** Checks and invalidations sent in the same tick: one script run in the `{prefix}` slot. */
  readonly #steps = new StepBatch((args, mayRetry) =>
    runScript(
      this.client,
      SCRIPTS.steps,
      [this.#slotKey],
      [this.prefix, this.origin, ...args],
      mayRetry,
    ).then((reply) => {
      // Trimming failures are retried a second later; nothing depends on one.
      this.#trim.afterStep(args.length, () => {})
      return reply
    }),
  )
  /** How long records are kept (ms; `keepRecords` of `redisStore`). */
  readonly keepRecordsMs: number
  readonly #trim: RecordsTrim

  constructor(client: Cluster, prefix: string, ownsClient: boolean, keepRecordsMs: number) {
    checkPrefix(prefix)
    this.client = client
    this.prefix = prefix
    const keys = slotKeys(prefix)
    this.keepRecordsMs = keepRecordsMs
    this.#trim = new RecordsTrim(client, prefix, keys.seq, keepRecordsMs)
    this.#slotKey = keys.seq
    this.#epochKey = keys.epoch
    this.#publishedKey = keys.published
    this.#floorKey = keys.floor
    this.#watermarkKey = keys.watermark
    this.#ownsClient = ownsClient
  }

  /** Trims the records now (as {@link RedisStore.trimRecords}). */
  trimRecords(): Promise<TrimResult> {
    return this.#trim.run()
  }

  /** Big reads are split into parts (`batch-limits.ts`) read in turn, each as described above. */
  async read(keys: readonly string[]): Promise<StoreReadResult> {
    const split = parts(keys, keyLength, MAX_READ_ITEMS)
    if (split.length === 1) return this.#read(keys)
    return mergeReads(await inTurn(split, (part) => this.#read(part)))
  }

  async #read(keys: readonly string[]): Promise<StoreReadResult> {
    const [state, rows] = await Promise.all([
      this.#state([]),
      Promise.all(keys.map((key) => this.client.get(this.entryKey(key)))),
    ])
    const entries = rows.map((row) => (row === null ? undefined : parseEntry(row)))
    const tags = [...new Set(entries.flatMap((entry) => entry?.tags ?? []))]
    if (tags.length === 0) {
      const [seq, epoch, floor, , list, hard, soft] = state
      return { entries, tagSeqs: tagRecords(floor, list, hard, soft), seq: Number(seq), epoch }
    }
    // The records of many tags are read in parts too; each part answers with the state it saw.
    const records = await inTurn(parts(tags, keyLength), (part) => this.#state(part))
    const last = records[records.length - 1] as ReadReply
    const tagSeqs = {}
    for (const [, , floor, , list, hard, soft] of records) {
      Object.assign(tagSeqs, tagRecords(floor, list, hard, soft))
    }
    // Records from before a loss of state cannot vouch for anything: treat it as the read's own.
    const lost = records.some((reply) => reply[1] !== last[1]) || state[1] !== last[1]
    return {
      entries: lost ? entries.map(() => undefined) : entries,
      tagSeqs: lost ? {} : tagSeqs,
      seq: Number(records[0]?.[0] ?? last[0]),
      epoch: last[1],
    }
  }

  /**
   * The entries' `GET`s and one `MGET` of the state and the watermark in the `{P}` slot, in
   * parallel: one round trip, no script. The two halves are not one atomic read, but both happen
   * after the read began, which is all the guarantee needs: any invalidation that resolved before
   * it is in the watermark read. Entries not proven are `unsure`, for {@link read} (two round
   * trips more). Big reads are split as `read` is.
   */
  async readProven(keys: readonly string[]): Promise<StoreProvenRead | undefined> {
    const split = parts(keys, keyLength, MAX_READ_ITEMS)
    if (split.length === 1) return this.#readProven(keys)
    return mergeProven(await inTurn(split, (part) => this.#readProven(part)))
  }

  async #readProven(keys: readonly string[]): Promise<StoreProvenRead | undefined> {
    const [rows, state] = await Promise.all([
      Promise.all(keys.map((key) => this.client.get(this.entryKey(key)))),
      this.client.mget(this.#slotKey, this.#epochKey, this.#floorKey, this.#watermarkKey),
    ])
    return parseProven([...rows, ...state], keys)
  }

  /** The entries' `GET`s and the sequence and epoch (one `MGET` in the `{P}` slot), in parallel. */
  async readUnchecked(keys: readonly string[]): Promise<StoreReadResult | undefined> {
    const split = parts(keys, keyLength, MAX_READ_ITEMS)
    if (split.length === 1) return this.#readUnchecked(keys)
    return mergeSnapshots(await inTurn(split, (part) => this.#readUnchecked(part)))
  }

  async #readUnchecked(keys: readonly string[]): Promise<StoreReadResult | undefined> {
    const [rows, state] = await Promise.all([
      Promise.all(keys.map((key) => this.client.get(this.entryKey(key)))),
      this.client.mget(this.#slotKey, this.#epochKey, this.#publishedKey),
    ])
    return parseSnapshot([...rows, ...state], keys.length)
  }

  /** Big writes are split into parts (`batch-limits.ts`) written in turn, each as above. */
  async write(
    entries: readonly StoreEntry[],
    options: StoreWriteOptions = {},
  ): Promise<StoreWriteResult> {
    const asOf = options.asOf === undefined ? '' : String(options.asOf)
    return mergeWrites(await inTurn(parts(entries, entrySize), (part) => this.#write(part, asOf)))
  }

  async #write(entries: readonly StoreEntry[], asOf: string): Promise<StoreWriteResult> {
    let bytes = 0
    for (const entry of entries) bytes += entrySize(entry)
    const checked = writeReply(await this.#steps.send({ ...checkCall(entries, asOf), bytes }))
    const starts = checked.starts.map(String)
    const written = await Promise.all(
      entries.map(async (entry, i) => {
        if (checked.written[i] !== true) return false
        const stored = await runScript(
          this.client,
          SCRIPTS.put,
          [this.entryKey(entry.key)],
          [
            this.prefix,
            entry.payload,
            starts[i] as string,
            JSON.stringify(entry.tags),
            entry.tagStarts === undefined ? '' : JSON.stringify(entry.tagStarts),
            String(Math.max(1, Math.ceil(entry.ttlMs))),
          ],
        )
        return stored === 1
      }),
    )
    return { seq: checked.seq, epoch: checked.epoch, written, starts: checked.starts }
  }

  /** {@link Store.check}: `step-batch.ts` `checkInParts`. */
  check(entries: readonly StoreCheckedEntry[]): Promise<StoreWriteResult> {
    return checkInParts(this.#steps, entries)
  }

  /** One step per part of at most `batch-limits.ts` tags, in turn; resolves with the last. */
  async invalidate(
    tags: readonly string[],
    options: StoreInvalidateOptions = {},
  ): Promise<StoreInvalidateResult> {
    return invalidateInSteps(this.#steps, tags, options)
  }

  /** Scans the masters one after the other; the cursor is `<master index>:<node cursor>`. */
  acquireLease(key: string, token: string, ttlMs: number): Promise<boolean> {
    return acquireLease(this.client, this.prefix, key, token, ttlMs)
  }

  releaseLease(key: string, token: string): Promise<void> {
    return releaseLease(this.client, this.prefix, key, token)
  }

  async scan(options: StoreScanOptions): Promise<StoreScanPage> {
    const masters = this.client.nodes('master')
    const [index, cursor] =
      (options.cursor ?? '0') === '0' ? [0, '0'] : parseCursor(options.cursor as string)
    const node = masters[index]
    if (node === undefined) return { keys: [], cursor: '0' }
    const page = await scanNode(node, this.prefix, options.match, cursor, options.count ?? 100)
    if (page.cursor !== '0') return { keys: page.keys, cursor: `${index}:${page.cursor}` }
    return { keys: page.keys, cursor: index + 1 < masters.length ? `${index + 1}:0` : '0' }
  }

  async close(): Promise<void> {
    if (this.#ownsClient) await this.client.quit().catch(() => this.client.disconnect())
  }

  /** The Redis key of an entry. */
  entryKey(key: string): string {
    return entryKey(this.prefix, key)
  }

  #state(tags: readonly string[]): Promise<ReadReply> {
    return runScript(this.client, SCRIPTS.state, [this.#slotKey], [this.prefix, ...tags]).then(
      (reply) => {
        const [seq, epoch, floor, list, hard, soft] = reply as [
          string,
          string,
          string,
          string[],
          (string | null)[],
          (string | null)[],
        ]
        return [seq, epoch, floor, [], list, hard, soft] as ReadReply
      },
    )
  }
}

const keyLength = (key: string): number => key.length

function parseCursor(cursor: string): [number, string] {
  const [index, node] = cursor.split(':')
  return [Number(index) || 0, node ?? '0']
}
