import { checkName, checkPayload, entrySize, parts } from '../../stores/batch-limits.js'
import type { StoreEntry, StoreWriteResult } from '../../stores/store.js'
import { CacheError, isCacheError } from '../../errors.js'
import { CachedFailure, encodeEntry, type EntryMeta } from '../tiers/entry-codec.js'
import { type Engine } from '../engine.js'
import {
  KEY_TAG_PREFIX,
  keyTag,
  l1KeyOf,
  type Namespace,
  type PendingWrite,
} from '../model/namespace.js'
import { toMs } from '../../util/duration.js'
import { checkKey, checkTags } from '../tags.js'
import type { SetManyEntry } from '../../types/options.js'
import type { L1Entry } from '../tiers/l1.js'
import { Validity } from '../model/tag-registry.js'
import { invalidate } from './invalidate.js'

/**
 * Writes entries to every tier; resolves per entry whether it was stored.
 *
 * - An entry whose tags were invalidated after their start is not stored (the stale set); the
 *   store checks the same atomically, then L1 is checked again, because an invalidation can land
 *   in between.
 * - Writes without a start supersede: they take a fresh sequence and record their key tag at it,
 *   so a load of the same key that started earlier can never overwrite them. One that is not
 *   stored (too large, ttl 0, the store failed) still invalidates the key's older value.
 * - Entries over `maxEntryBytes` are not stored (reported once per key).
 * - A key, tag or value over the hard limits of `batch-limits.ts` refuses the whole call up
 *   front (`E_TOO_LARGE`), before anything is stored anywhere.
 * - Big batches go to the store in parts, one after the other, each within the write time limit;
 *   should a part fail, the entries from there on are not stored.
 */
/**
 * The writes `setMany` asks for, checked (a key, a defined value, tags) before anything is
 * written: each entry's full key, its L1 key, and its tags with the implicit ones.
 */
export function pendingWrites(
  engine: Engine,
  ns: Namespace,
  entries: readonly SetManyEntry[],
): PendingWrite[] {
  return entries.map((entry) => {
    checkKey(entry.key)
    if (entry.value === undefined) {
      throw new CacheError(
        'E_INVALID_VALUE',
        `cachegraph: cannot set '${entry.key}' to undefined (use delete)`,
      )
    }
    const fullKey = ns.prefix + entry.key
    return {
      fullKey,
      l1Key: l1KeyOf(ns, entry.key),
      value: entry.value,
      tags: [...checkTags(entry.tags ?? []), keyTag(fullKey), ...ns.tags],
      start: entry.asOf,
      ttlMs: entry.ttl === undefined ? engine.options.ttlMs : toMs(entry.ttl, 'ttl'),
    }
  })
}

export async function commit(
  engine: Engine,
  writes: readonly PendingWrite[],
  now: number,
): Promise<boolean[]> {
  // Each write's key tag, made once (the store, the records and L1 all take it).
  const keyTags: string[] = []
  for (const w of writes) {
    const own = keyTag(w.fullKey)
    checkName(own, 'key')
    for (const tag of w.tags) checkName(tag, 'tag')
    keyTags.push(own)
  }
  const valid = (w: PendingWrite, start: number) =>
    engine.registry.check(w.tags, start, w.tagStarts ?? undefined) !== Validity.Invalid
  // Sized once: the byte limits and the L1 entry use the same figure (0 when nothing needs it).
  const sizes = writes.map((w) => engine.sizeOf(w.value))
  const stored = writes.map(
    (w, i) =>
      w.ttlMs > 0 &&
      (w.start === undefined || valid(w, w.start)) &&
      fits(engine, w, sizes[i] as number),
  )
  const starts = writes.map((w) => w.start)
  /** Entries the store took (their answer came from its atomic check). */
  const fromStore: boolean[] = []
  const metas = writes.map((w) => engine.meta(w, now))
  const shared = engine.shared
  if (shared === undefined) {
    // Loops, not `flatMap` (slow on V8): this runs for every `set`. Superseding writes not
    // stored (too large, ttl 0) take the step too: the key's older value is over either way.
    const superseding = keyTagsWhere(keyTags, (i) => writes[i]?.start === undefined)
    if (superseding.length > 0) {
      const seq = engine.sequence.nextLocal()
      engine.registry.apply(superseding, seq, false)
      writes.forEach((_, i) => void (starts[i] ??= seq))
    }
  } else {
    const indexes: number[] = []
    for (let i = 0; i < writes.length; i++) {
      if (stored[i] === true && writes[i]?.localOnly !== true) indexes.push(i)
    }
    const entries: StoreEntry[] = indexes.map((i) => {
      const w = writes[i] as PendingWrite
      const meta = metas[i] as EntryMeta
      const payload = encodeEntry(engine.options.serializer, w.value, meta)
      return {
        key: w.fullKey,
        payload,
        tags: w.tags,
        start: w.start,
        tagStarts: w.tagStarts,
        keyTag: keyTags[i] as string,
        ttlMs: Math.max(1, Math.ceil(meta.staleUntil - now)),
      }
    })
    entries.forEach((entry) => checkPayload(entry.key, entry.payload))
    indexes.forEach((i, n) => {
      if (
        !fitsBytes(engine, writes[i] as PendingWrite, (entries[n] as StoreEntry).payload.length)
      ) {
        stored[i] = false
      }
    })
    const sending = entries.filter((_, n) => stored[indexes[n] as number])
    const sentIndexes = indexes.filter((i) => stored[i])
    let sent = 0
    const split = sending.length === 0 ? [] : parts(sending, entrySize)
    const budget = split.length > 1 ? shared.partBudget('write', split.length) : undefined
    for (const part of split) {
      const result = await shared.guard('write', () => shared.store.write(part), budget?.next())
      if (result === undefined) break
      engine.sequence.observe(result.seq, result.epoch)
      const at = sentIndexes.slice(sent, sent + part.length)
      applyResult(engine, writes, keyTags, at, result, stored, starts)
      for (const i of at) fromStore[i] = true
      sent += part.length
    }
    // What a failed part left unsent is not stored.
    for (const i of sentIndexes.slice(sent)) stored[i] = false
    // Awaited only when there is one: an await costs every `set` a few promise jobs.
    if (writes.some(isLocalOnly)) await checkLocalOnly(engine, writes, keyTags, stored)
    // Superseding writes the store did not take (too large, ttl 0, a failed part) void the key's
    // older value all the same; loads (session-private ones included) have a start.
    const unstored = keyTagsWhere(
      keyTags,
      (i) => writes[i]?.start === undefined && fromStore[i] !== true,
    )
    if (unstored.length > 0) await supersedeUnstored(engine, unstored)
  }
  writes.forEach((w, i) => {
    const start = starts[i]
    if (!stored[i] || start === undefined) return void (stored[i] = false)
    // Checked here again: an invalidation may have landed since the store wrote it.
    const checked = valid(w, start)
    // A batch past `maxTags` makes this process forget records (its floor rises above the
    // first parts' starts): it can no longer judge such an entry, but the store did, atomically.
    // Stored, then — only not kept in L1.
    const vouched =
      checked ||
      (fromStore[i] === true && !engine.registry.decides(w.tags, start, w.tagStarts ?? undefined))
    if (!vouched) return void (stored[i] = false)
    engine.counters.sets++
    if (engine.events.has('set')) engine.events.emit('set', { key: w.fullKey, tags: w.tags })
    if (checked) {
      putL1(engine, w, keyTags[i] as string, start, metas[i] as EntryMeta, sizes[i] as number, now)
    }
  })
  return stored
}

/**
 * Superseding writes the store did not take — too large, ttl 0, or the store failed (or its answer
 * was lost) — still supersede: the key's older value must not be served on, in this process or any
 * other. Their key tags are invalidated as `delete` would, so a failure is applied here, queued
 * for replay and reported (`E_INVALIDATION_NOT_RECORDED`, as an `error` event: the `set` itself
 * resolves false). A store that took the write after all loses it to the replay: a miss, never a
 * stale read (docs/faults.md).
 */
async function supersedeUnstored(engine: Engine, keyTags: readonly string[]): Promise<void> {
  try {
    await invalidate(engine, keyTags, { keys: true })
  } catch (error) {
    // Closed meanwhile: nothing is served from it any more.
    if (isCacheError(error, 'E_CLOSED')) return
    if (!isCacheError(error, 'E_INVALIDATION_NOT_RECORDED')) throw error
    engine.reportError(error, 'set')
  }
}

/**
 * Takes one part's answer: per entry whether it was stored and as of which start; the key tags of
 * its superseding entries are recorded here at the sequence the part took for them.
 */
function applyResult(
  engine: Engine,
  writes: readonly PendingWrite[],
  keyTags: readonly string[],
  at: readonly number[],
  result: StoreWriteResult,
  stored: boolean[],
  starts: (number | undefined)[],
): void {
  const superseding: string[] = []
  let fresh: number | undefined
  at.forEach((i, n) => {
    stored[i] = result.written[n] === true
    starts[i] = result.starts[n]
    const w = writes[i] as PendingWrite
    if (w.start === undefined) {
      superseding.push(keyTags[i] as string)
      fresh ??= result.starts[n]
    } else if (!stored[i]) {
      learnRefusal(engine, w, keyTags[i] as string, result.seq)
    }
  })
  if (fresh !== undefined) engine.applyOwn(superseding, fresh, false)
}

/**
 * Entries kept in this process only (a session's private ones) that carry key tags are checked
 * by the store as a write would be (`Store.check`), which notes their key tags as carried: a
 * first `set` of such a key elsewhere is then heard, not quiet (docs/invalidation.md). One
 * refused is not kept; one the store could not check is not kept either.
 */
async function checkLocalOnly(
  engine: Engine,
  writes: readonly PendingWrite[],
  keyTags: readonly string[],
  stored: boolean[],
): Promise<void> {
  const shared = engine.shared
  const check = shared?.store.check?.bind(shared.store)
  if (shared === undefined || check === undefined) return
  const at: number[] = []
  for (let i = 0; i < writes.length; i++) {
    const w = writes[i] as PendingWrite
    if (stored[i] === true && w.localOnly === true && w.start !== undefined) at.push(i)
  }
  if (at.length === 0) return
  const entries = at.map((i) => {
    const w = writes[i] as PendingWrite
    // Its tags name its own key tag (implicit tags come with every load).
    return { tags: w.tags, start: w.start, tagStarts: w.tagStarts ?? undefined }
  })
  const result = await shared.guard('write', () => check(entries))
  at.forEach((i, n) => {
    const allowed = result?.written[n] === true
    stored[i] = allowed
    if (!allowed && result !== undefined) {
      learnRefusal(engine, writes[i] as PendingWrite, keyTags[i] as string, result.seq)
    }
  })
}

/**
 * The store refused a load's entry that this process's records allow: a step it has not heard of
 * came after the load's start — a quiet step (a first `set` of a key no stored entry carried,
 * never published, docs/invalidation.md) or one still on its way. Only key tags can have quiet
 * steps, so this process records a hard step at `seq` (the store's sequence after the refusal, at
 * or above the one it missed) for the entry's key tags: entries built from its value here are
 * refused as if the step had been heard, and the write is marked `unheard`, so callers that
 * joined the load load again (they may have asked after the step). It may refuse more than the
 * step did (an entry as of a sequence between the two reloads): never less.
 */
function learnRefusal(engine: Engine, w: PendingWrite, own: string, seq: number): void {
  const start = w.start as number
  if (engine.registry.check(w.tags, start, w.tagStarts ?? undefined) === Validity.Invalid) return
  const keyTags = [own]
  for (const tag of w.tags) if (tag !== own && tag.startsWith(KEY_TAG_PREFIX)) keyTags.push(tag)
  engine.registry.apply(keyTags, seq, false)
  w.unheard = true
}

function putL1(
  engine: Engine,
  w: PendingWrite,
  own: string,
  start: number,
  meta: EntryMeta,
  size: number,
  now: number,
): void {
  const l1 = engine.l1
  if (l1 === undefined) return
  const value =
    engine.options.l1 !== false && engine.options.l1.clone ? structuredClone(w.value) : w.value
  // Fields named, not `...meta`: a spread is a generic copy on every `set`.
  const entry: L1Entry = {
    value,
    tags: l1Tags(w, own),
    start,
    tagStarts: w.tagStarts ?? undefined,
    createdAt: meta.createdAt,
    expiresAt: meta.expiresAt,
    staleUntil: meta.staleUntil,
    version: meta.version,
    checkedAt: engine.registry.generation,
    validity: Validity.Valid,
    size,
    failure: value instanceof CachedFailure,
  }
  l1.set(w.l1Key, entry, now)
}

/**
 * The tags an L1 entry keeps: the write's, with its key tag rebuilt from two strings other entries
 * hold anyway — the namespace's `@key:<prefix>` (one per namespace) and the entry's own L1 key —
 * so each entry pays for one small string node instead of a copy of its key (or a tree of three
 * pieces, as `keyTag` leaves it). Root namespaces only: there the L1 key is the caller's key.
 */
function l1Tags(w: PendingWrite, own: string): readonly string[] {
  const { tags, fullKey, l1Key } = w
  if (fullKey.length <= l1Key.length || !fullKey.endsWith(l1Key)) return tags
  const at = tags.indexOf(own)
  if (at < 0) return tags
  const copy = tags.slice()
  copy[at] = keyTagPrefix(fullKey.slice(0, fullKey.length - l1Key.length)) + l1Key
  return copy
}

const keyTagPrefixes = new Map<string, string>()

/** `keyTag(prefix)`, one flat copy per namespace prefix (bounded: past 256, made each time). */
function keyTagPrefix(prefix: string): string {
  let known = keyTagPrefixes.get(prefix)
  if (known === undefined) {
    // Joined, not concatenated: one flat string, not a tree of its pieces.
    known = [keyTag(''), prefix].join('')
    if (keyTagPrefixes.size < 256) keyTagPrefixes.set(prefix, known)
  }
  return known
}

/** `maxEntryBytes` by the L1 estimate (before serializing). */
function fits(engine: Engine, w: PendingWrite, size: number): boolean {
  return engine.options.maxEntryBytes === undefined || fitsBytes(engine, w, size)
}

const reportedTooLarge = new WeakMap<Engine, Set<string>>()

function fitsBytes(engine: Engine, w: PendingWrite, bytes: number): boolean {
  const limit = engine.options.maxEntryBytes
  if (limit === undefined || bytes <= limit) return true
  let reported = reportedTooLarge.get(engine)
  if (reported === undefined) reportedTooLarge.set(engine, (reported = new Set()))
  if (!reported.has(w.fullKey) && reported.size < 10_000) {
    reported.add(w.fullKey)
    engine.reportError(
      new CacheError(
        'E_ENTRY_TOO_LARGE',
        `cachegraph: '${w.fullKey}' is ${bytes} bytes, over maxEntryBytes (${limit}); not cached`,
      ),
      'set',
      w.fullKey,
    )
  }
  return false
}

const isLocalOnly = (w: PendingWrite): boolean => w.localOnly === true

/** The key tags whose index `pick` accepts, in order. */
function keyTagsWhere(keyTags: readonly string[], pick: (i: number) => boolean): string[] {
  const picked: string[] = []
  for (let i = 0; i < keyTags.length; i++) if (pick(i)) picked.push(keyTags[i] as string)
  return picked
}
