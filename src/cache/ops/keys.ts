import { compileGlob } from '../../util/glob.js'
import type { StoredRecord, TagSeq } from '../../stores/store.js'
import { type Engine } from '../engine.js'
import { IMPLICIT, keyTag, type Namespace } from '../model/namespace.js'
import { Validity } from '../model/tag-registry.js'
import { decodeEntry } from '../tiers/entry-codec.js'
import type { SharedTier } from '../tiers/shared.js'
import { localSize } from './inspect.js'
import { invalidate } from './invalidate.js'

/** One key as `cache.keys()` lists it. */
export interface ListedKey {
  /** The key within its namespace. */
  key: string
  /** Its namespace path (`app`, `app:users`): the cache's own or one of its children. */
  namespace: string
  /** Milliseconds of lifetime left (grace included). */
  ttl: number
  /**
   * The tags it was written with. Implicit tags (`@key:`, `@ns:`) are left out: they are
   * bookkeeping, which callers can neither set nor invalidate.
   */
  tags: string[]
  /**
   * Its size as `cache.inspect()` gives it: on a store that lists keys, the length of the stored
   * payload (the serialized value and a short header; bytes for ASCII text); without a store, the
   * L1's estimate in bytes. Undefined where it is not known without another read (a store that
   * cannot list keys, whose entries are listed from L1), or the payload cannot be read back.
   */
  size?: number
  /**
   * When it was written, in milliseconds since the epoch. Undefined only for a stored payload
   * that cannot be read back.
   */
  createdAt?: number
}

/** Options of `cache.keys()` and `cache.clear({ pattern })`. */
export interface ListKeysOptions {
  /**
   * Glob over keys, matched as Redis `MATCH` matches (`*`, `?`, `[abc]`, `[^a]`, `[a-z]`, `\\`
   * escapes; see docs/admin-api.md). One that cannot be a pattern rejects with `CacheError`
   * `E_INVALID_PATTERN`. @default '*'
   */
  pattern?: string
  /** Where the previous page stopped; `'0'` or omitted starts. Opaque. */
  cursor?: string
  /** How many keys to look at per page (a hint). @default 100 */
  count?: number
}

/**
 * One page of the keys of `ns` and its children: from the shared tier when there is one (`SCAN`
 * on Redis, never `KEYS`), else from this process's L1. The returned cursor is `'0'` when done.
 */
export async function listKeys(
  engine: Engine,
  ns: Namespace,
  options: ListKeysOptions = {},
): Promise<{ keys: ListedKey[]; cursor: string }> {
  const pattern = compileGlob(options.pattern ?? '*')
  const count = options.count ?? 100
  const cursor = options.cursor ?? '0'
  // Full keys are `<namespace>::<key>`; the pattern is matched against the key.
  const matching = ({ key }: { key: string }) => {
    const split = key.indexOf('::')
    return split !== -1 && pattern.test(key.slice(split + 2))
  }
  const store = engine.store
  let page: { full: Listed[]; cursor: string }
  if (store?.scan !== undefined) {
    const scan = store.scan.bind(store)
    // Namespace paths are letters, digits, '_', '-', '.' (no glob characters to escape).
    const scanned = await (engine.shared as SharedTier).call('scan', () =>
      scan({ match: `${ns.path}:*`, cursor, count }),
    )
    // Matched first: only the keys asked for are read back.
    const listed = scanned.keys.map(({ key, ttlMs }) => ({ key, ttl: ttlMs })).filter(matching)
    page = { full: await liveOnly(engine, listed), cursor: scanned.cursor }
  } else {
    page = scanL1(engine, ns, Number(cursor) || 0, count, matching)
  }
  const keys: ListedKey[] = page.full.map(({ key: fullKey, ...details }) => {
    const split = fullKey.indexOf('::')
    return { key: fullKey.slice(split + 2), namespace: fullKey.slice(0, split), ...details }
  })
  return { keys, cursor: page.cursor }
}

/** A listed entry under its full key (`<namespace>::<key>`). */
type Listed = Omit<ListedKey, 'key' | 'namespace'> & { key: string }

/** Implicit tags are the engine's own: a listing shows the tags callers gave. */
const userTags = (tags: readonly string[]): string[] =>
  tags.filter((tag) => !tag.startsWith(IMPLICIT))

/**
 * The listed keys whose entries are still valid. A scan sees keys, not tags: a deleted, cleared or
 * invalidated entry stays in the store until its ttl, so each page is read back (one store read
 * per page; this is an admin path, not a hot one, so it has the scan's time limit, not a read's).
 * That read also gives each key's tags, size and age: callers (the dashboard) need not inspect
 * each key, one more request per key, which a key invalidated in between answered with a 404.
 *
 * The records of that read decide — complete for the page's tags as of the read — not this
 * process's tag registry: the registry is bounded (`maxTags`), and once it forgot records it
 * distrusts every older entry. Right for serving from L1, wrong here: a clear past `maxTags` (its
 * own invalidations push the registry past its bound) skipped live keys, which other processes
 * went on reading, and `keys()` left them out. Nor are the records learned: a page of a thousand
 * keys would evict the records this process serves with.
 */
async function liveOnly(engine: Engine, listed: { key: string; ttl: number }[]): Promise<Listed[]> {
  if (listed.length === 0) return []
  const store = engine.store as NonNullable<Engine['store']>
  const read = await (engine.shared as SharedTier).call('scan', () =>
    store.read(listed.map(({ key }) => key)),
  )
  const live: Listed[] = []
  listed.forEach(({ key, ttl }, i) => {
    const record = read.entries[i]
    if (record === undefined || !validAsRead(record, read.tagSeqs)) return
    live.push({ key, ttl, tags: userTags(record.tags), ...storedDetails(engine, record) })
  })
  return live
}

/**
 * Size and creation time of a stored record, as `cache.inspect()` reads them (its header only,
 * the value is not deserialized). A payload that cannot be read back is listed without them, as
 * it was listed before: readers treat it as a miss and rewrite it.
 */
function storedDetails(
  engine: Engine,
  record: StoredRecord,
): { size?: number; createdAt?: number } {
  try {
    const { size, createdAt } = decodeEntry(engine.options.serializer, record, false)
    return { size, createdAt }
  } catch {
    return {}
  }
}

/** Whether no hard record of the read is above the start of one of the entry's tags. */
function validAsRead(record: StoredRecord, tagSeqs: Record<string, TagSeq>): boolean {
  // A store may judge entries itself: Redis's read script leaves only the header of an invalid one.
  if (record.payload === '') return false
  for (let i = 0; i < record.tags.length; i++) {
    const start = record.tagStarts?.[i] ?? record.start
    const seqs = tagSeqs[record.tags[i] as string]
    if (seqs !== undefined && seqs.hard > start) return false
  }
  return true
}

/** `cache.clear({ pattern })`: deletes every matching key, page by page. Returns how many. */
export async function clearMatching(
  engine: Engine,
  ns: Namespace,
  pattern: string,
): Promise<number> {
  let cursor = '0'
  let cleared = 0
  do {
    const page = await listKeys(engine, ns, { pattern, cursor, count: 1_000 })
    if (page.keys.length > 0) {
      const fullKeys = page.keys.map(({ key, namespace }) => `${namespace}::${key}`)
      await invalidate(engine, fullKeys.map(keyTag), { keys: true })
      cleared += fullKeys.length
    }
    cursor = page.cursor
  } while (cursor !== '0')
  return cleared
}

/**
 * A page of live L1 entries under `ns` (its own keys, then children's) that are `matching`, as
 * full keys with their details. The cursor is the L1 order of the last entry looked at, not a
 * position: entries deleted or evicted between pages would shift positions and make the next
 * page skip keys.
 */
function scanL1(
  engine: Engine,
  ns: Namespace,
  after: number,
  count: number,
  matching: (listed: { key: string }) => boolean,
) {
  const full: Listed[] = []
  const now = engine.clock.now()
  let looked = 0
  let last = after
  for (const [l1Key, entry, order] of engine.l1?.entriesAfter(after) ?? []) {
    if (looked++ >= count) return { full, cursor: String(last) }
    last = order
    if (
      entry.staleUntil <= now ||
      engine.registry.check(entry.tags, entry.start, entry.tagStarts) === Validity.Invalid
    ) {
      continue
    }
    // Root keys are stored as given; children's as `\0<path>\0<key>`.
    const fullKey =
      l1Key.charCodeAt(0) === 0 ? l1Key.slice(1).replace('\0', '::') : `${rootOf(ns)}::${l1Key}`
    // Matched before its details are taken: sizing an entry walks its value.
    if (fullKey.startsWith(`${ns.path}:`) && matching({ key: fullKey })) {
      const { tags, createdAt } = entry
      full.push({
        key: fullKey,
        ttl: entry.staleUntil - now,
        tags: userTags(tags),
        size: localSize(engine, entry),
        createdAt,
      })
    }
  }
  return { full, cursor: '0' }
}

/** The root namespace path: L1 keys of the root carry no prefix. */
function rootOf(ns: Namespace): string {
  const colon = ns.path.indexOf(':')
  return colon === -1 ? ns.path : ns.path.slice(0, colon)
}
