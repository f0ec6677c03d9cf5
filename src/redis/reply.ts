import type {
  StoreProvenRead,
  StoreReadResult,
  StoredRecord,
  StoreWriteResult,
  TagSeq,
} from '../stores/store.js'
import { numberAt } from '../util/digits.js'

/** Reply of the read script (and of the cluster store's assembled read). */
export type ReadReply = [
  seq: string,
  epoch: string,
  floor: string,
  /** One entry string per key: null when missing, only its header when already invalid. */
  entries: (string | null)[],
  tags: string[],
  hard: (string | null)[],
  soft: (string | null)[],
]

/**
 * An entry string as the scripts store it: `start \n tags \n tagStarts \n payload`. A header
 * without payload (an entry the read script found invalid) gives payload `''`, which the engine
 * never decodes.
 */
export function parseEntry(entry: string): StoredRecord {
  const a = entry.indexOf('\n')
  const b = entry.indexOf('\n', a + 1)
  const c = entry.indexOf('\n', b + 1)
  // One shape for every record (tagStarts present, maybe undefined): the read path stays
  // monomorphic.
  return {
    payload: entry.slice(c + 1),
    start: numberAt(entry, 0, a),
    tags: parseTags(entry, a + 1, b),
    tagStarts: c > b + 1 ? (JSON.parse(entry.slice(b + 1, c)) as number[]) : undefined,
  }
}

/**
 * The JSON string array between `from` and `to`. On the read path of every shared-tier hit, so
 * the common form — no escapes — is cut tag by tag (each ends at the next quote); anything else
 * goes through `JSON.parse`.
 */
function parseTags(entry: string, from: number, to: number): string[] {
  if (to - from === 2) return [] // []
  if (entry.lastIndexOf('\\', to) >= from) return JSON.parse(entry.slice(from, to)) as string[]
  const tags: string[] = []
  // At the opening quote of each tag: `["a","b"]`.
  for (let open = from + 1; open < to;) {
    const close = entry.indexOf('"', open + 1)
    tags.push(entry.slice(open + 1, close))
    open = close + 2
  }
  return tags
}

/** Turns a read reply into the store contract's shape. */
export function parseRead(reply: ReadReply, count: number): StoreReadResult {
  const [seq, epoch, floor, flat, tags, hard, soft] = reply
  const entries: (StoredRecord | undefined)[] = []
  for (let i = 0; i < count; i++) {
    const entry = flat[i]
    entries.push(typeof entry === 'string' ? parseEntry(entry) : undefined)
  }
  return {
    entries,
    tagSeqs: tagRecords(floor, tags, hard, soft),
    seq: Number(seq),
    epoch,
    published: undefined,
  }
}

/** `tag → { hard, soft }` from parallel lists; a tag without a record reads as the floor. */
export function tagRecords(
  floor: string,
  tags: readonly string[],
  hard: readonly (string | null)[],
  soft: readonly (string | null)[],
): Record<string, TagSeq> {
  const tagSeqs: Record<string, TagSeq> = {}
  tags.forEach((tag, i) => {
    tagSeqs[tag] = { hard: Number(hard[i] ?? floor), soft: Number(soft[i] ?? floor) }
  })
  return tagSeqs
}

/**
 * The answer of an unchecked read: entries as stored, then `{P}:seq`, `{P}:epoch` and `{P}:pub`,
 * fetched together. Undefined when the state is missing (lost, or never created).
 */
export function parseSnapshot(
  values: readonly (string | null)[],
  count: number,
): StoreReadResult | undefined {
  const seq = values[count]
  const epoch = values[count + 1]
  const pub = values[count + 2]
  if (seq === null || seq === undefined || epoch === null || epoch === undefined) return undefined
  const entries: (StoredRecord | undefined)[] = new Array<StoredRecord | undefined>(count)
  for (let i = 0; i < count; i++) {
    const entry = values[i]
    entries[i] = entry === null || entry === undefined ? undefined : parseEntry(entry)
  }
  const published = pub === null || pub === undefined ? undefined : Number(pub)
  return { entries, tagSeqs: {}, seq: Number(seq), epoch, published }
}

/** The part of a merged read that answers `count` keys from `from` (records and state shared). */
export function sliceRead(result: StoreReadResult, from: number, count: number): StoreReadResult {
  // A literal of the fields in their order, not a spread: every read result keeps one shape, so
  // the hot path's property loads stay monomorphic.
  const entries = result.entries.slice(from, from + count)
  return {
    entries,
    tagSeqs: result.tagSeqs,
    seq: result.seq,
    epoch: result.epoch,
    published: result.published,
  }
}

/**
 * One answer from the answers of the parts of a split read, in order. Parts are separate atomic
 * reads: should the store have lost its state between them (a new epoch), the entries of parts
 * from an older epoch are dropped (misses), with their records. The sequence is the earliest of
 * the last epoch's parts: a load that starts after the whole read is safely "as of" it.
 */
export function mergeReads(parts: readonly StoreReadResult[]): StoreReadResult {
  const last = parts[parts.length - 1] as StoreReadResult
  if (parts.length === 1) return last
  const entries: (StoredRecord | undefined)[] = []
  const tagSeqs: Record<string, TagSeq> = {}
  let seq = last.seq
  // Every part must be covered: the highest of them (unknown when one is).
  let published: number | undefined = last.published
  for (const part of parts) {
    if (part.epoch !== last.epoch) {
      for (let i = 0; i < part.entries.length; i++) entries.push(undefined)
      continue
    }
    seq = Math.min(seq, part.seq)
    published =
      published === undefined || part.published === undefined
        ? undefined
        : Math.max(published, part.published)
    for (const entry of part.entries) entries.push(entry)
    for (const [tag, record] of Object.entries(part.tagSeqs)) {
      const known = tagSeqs[tag]
      tagSeqs[tag] =
        known === undefined
          ? record
          : { hard: Math.max(known.hard, record.hard), soft: Math.max(known.soft, record.soft) }
    }
  }
  return { entries, tagSeqs, seq, epoch: last.epoch, published }
}

/** Unchecked reads merged as {@link mergeReads}; undefined when a part found no state. */
export function mergeSnapshots(
  parts: readonly (StoreReadResult | undefined)[],
): StoreReadResult | undefined {
  if (parts.some((part) => part === undefined)) return undefined
  const all = parts as StoreReadResult[]
  // Entries judged by the process itself must all come from one epoch.
  if (all.some((part) => part.epoch !== all[0]?.epoch)) return undefined
  return mergeReads(all)
}

/**
 * One answer from the answers of the parts of a split write (each part one atomic check-and-set).
 * Entries of parts written in an older epoch than the last are reported not written: the store
 * lost them with its state.
 */
export function mergeWrites(parts: readonly StoreWriteResult[]): StoreWriteResult {
  const last = parts[parts.length - 1] as StoreWriteResult
  if (parts.length === 1) return last
  const written: boolean[] = []
  const starts: number[] = []
  for (const part of parts) {
    const current = part.epoch === last.epoch
    for (const ok of part.written) written.push(current && ok)
    for (const start of part.starts) starts.push(start)
  }
  return { written, starts, seq: last.seq, epoch: last.epoch }
}

/** The engine's implicit key tags (`@key:<full key>`), the only records the watermark may skip. */
const KEY_TAG = '@key:'

/**
 * Judges entries fetched with one `MGET`, together with `{P}:seq`, `{P}:epoch`, `{P}:floor` and
 * the watermark `{P}:w` (`'w seq'`, see scripts.ts), without the tag records. An entry whose
 * tags are all as of `m` or later is valid when `floor <= m`, `w <= m <= seq`, and:
 *
 * - `m = seq`: no record is above the sequence; or
 * - it names no key tag but its own: the only records above `w` are key tags of superseding
 *   writes that replaced the entry of that key in the same step — the entry read under that key
 *   now is that one or a later one, checked against them when written.
 *
 * Undefined when the state or the watermark is missing or behind the sequence (the script
 * starts the state over or mends the watermark). `values`: the entries, then the four state keys.
 * `tagSeqs` stays empty: a proven entry has no record above its tags' starts (no record is above
 * `w` but key tags of superseding writes, `w` is at most the entry's oldest start, and a key
 * tag's record is at most the entry's start for that tag), which is all the process needs to
 * know of the store's records to judge it (`shared.ts`).
 */
export function parseProven(
  values: readonly (string | null)[],
  keys: readonly string[],
): StoreProvenRead | undefined {
  const count = keys.length
  const seqText = values[count]
  const epoch = values[count + 1]
  const floorText = values[count + 2]
  const mark = values[count + 3]
  if (seqText == null || epoch == null || floorText == null || mark == null) return undefined
  const space = mark.indexOf(' ')
  if (space < 0 || mark.slice(space + 1) !== seqText) return undefined
  const seq = Number(seqText)
  const floor = Number(floorText)
  const w = Number(mark.slice(0, space))
  const entries: (StoredRecord | undefined)[] = new Array<StoredRecord | undefined>(count)
  const unsure: number[] = []
  for (let i = 0; i < count; i++) {
    const entry = values[i]
    if (entry === null || entry === undefined) continue
    const record = parseEntry(entry)
    entries[i] = record
    if (!proven(record, keys[i] as string, seq, floor, w)) unsure.push(i)
  }
  return { entries, tagSeqs: {}, seq, epoch, unsure }
}

/** The rule of {@link parseProven} for one entry stored under `key`. */
function proven(record: StoredRecord, key: string, seq: number, floor: number, w: number): boolean {
  let oldest = record.start
  if (record.tagStarts !== undefined) {
    for (const start of record.tagStarts) if (start < oldest) oldest = start
  }
  if (oldest < floor || oldest > seq || oldest < w || Number.isNaN(oldest)) return false
  if (oldest === seq) return true
  const own = KEY_TAG + key
  for (const tag of record.tags) if (tag !== own && tag.startsWith(KEY_TAG)) return false
  return true
}

/** The part of a merged proven read that answers `count` keys from `from`. */
export function sliceProven(result: StoreProvenRead, from: number, count: number): StoreProvenRead {
  const unsure: number[] = []
  for (const i of result.unsure) if (i >= from && i < from + count) unsure.push(i - from)
  const entries = result.entries.slice(from, from + count)
  return { entries, tagSeqs: result.tagSeqs, seq: result.seq, epoch: result.epoch, unsure }
}

/**
 * Proven reads of the parts of a split read, in order, as {@link mergeSnapshots} merges
 * unchecked ones; undefined when a part proved nothing or the parts saw different epochs.
 */
export function mergeProven(
  parts: readonly (StoreProvenRead | undefined)[],
): StoreProvenRead | undefined {
  const unsure: number[] = []
  let offset = 0
  for (const part of parts) {
    if (part === undefined) return undefined
    for (const i of part.unsure) unsure.push(offset + i)
    offset += part.entries.length
  }
  const merged = mergeSnapshots(parts)
  return merged === undefined ? undefined : { ...merged, unsure }
}
