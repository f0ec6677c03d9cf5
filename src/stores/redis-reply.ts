import type { StoreReadResult, StoredRecord, TagSeq } from './store.js'

/** Reply of the read script (and of the cluster store's assembled read). */
export type ReadReply = [
  seq: string,
  epoch: string,
  floor: string,
  /** 4 slots per key: payload (null when missing or already invalid), start, tags, tag starts. */
  entries: (string | null)[],
  tags: string[],
  hard: (string | null)[],
  soft: (string | null)[],
]

/**
 * Turns a read reply into the store contract's shape. An entry the script found invalid comes
 * without its payload (`''`): the engine never decodes it, and its tags' records say why.
 */
export function parseRead(reply: ReadReply, count: number): StoreReadResult {
  const [seq, epoch, floor, flat, tags, hard, soft] = reply
  const entries: (StoredRecord | undefined)[] = []
  for (let i = 0; i < count; i++) {
    const start = flat[4 * i + 1]
    if (start === null || start === undefined) {
      entries.push(undefined)
      continue
    }
    const record: StoredRecord = {
      payload: flat[4 * i] ?? '',
      start: Number(start),
      tags: JSON.parse(flat[4 * i + 2] as string) as string[],
    }
    const tagStarts = flat[4 * i + 3]
    if (tagStarts) record.tagStarts = JSON.parse(tagStarts) as number[]
    entries.push(record)
  }
  const tagSeqs: Record<string, TagSeq> = {}
  tags.forEach((tag, i) => {
    tagSeqs[tag] = { hard: Number(hard[i] ?? floor), soft: Number(soft[i] ?? floor) }
  })
  return { entries, tagSeqs, seq: Number(seq), epoch }
}
