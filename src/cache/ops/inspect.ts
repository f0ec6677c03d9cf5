import type { EntryInfo } from '../../types/options.js'
import type { Engine } from '../engine.js'
import { Validity } from '../model/tag-registry.js'
import type { L1Entry } from '../tiers/l1.js'
import { estimateSize } from '../tiers/size.js'

const STATUS = {
  [Validity.Valid]: 'valid',
  [Validity.Soft]: 'stale',
  [Validity.Invalid]: 'invalid',
} as const

/** `cache.inspect()`: what L1 (else the shared tier) holds for `fullKey`. */
export async function describeEntry(
  engine: Engine,
  fullKey: string,
  l1Key: string,
): Promise<EntryInfo | undefined> {
  const now = engine.options.clock.now()
  const local = engine.l1?.peek(l1Key)
  if (local !== undefined) {
    const status = STATUS[engine.registry.check(local.tags, local.start, local.tagStarts)]
    return {
      key: fullKey,
      tier: 'l1',
      tags: local.tags,
      ttl: local.expiresAt - now,
      createdAt: local.createdAt,
      expiresAt: local.expiresAt,
      start: local.start,
      status,
      size: localSize(engine, local) ?? (await storedSize(engine, fullKey)),
    }
  }
  if (engine.shared === undefined) return undefined
  const read = await engine.shared.read([fullKey])
  const entry = read?.entries[0]
  if (entry === undefined) return undefined
  const status = STATUS[entry.validity]
  return {
    key: fullKey,
    tier: 'l2',
    tags: entry.tags,
    ttl: entry.expiresAt - now,
    createdAt: entry.createdAt,
    expiresAt: entry.expiresAt,
    start: entry.start,
    status,
    size: entry.size,
  }
}

/**
 * An L1 entry's size when it is known without a read: the size it was kept with (computed only
 * for `l1.maxBytes` and `maxEntryBytes`), else, for an entry that lives only in this process, the
 * L1 estimate. Undefined when the shared tier holds it: its size is the stored payload's.
 */
export function localSize(engine: Engine, entry: L1Entry): number | undefined {
  if (entry.size !== 0) return entry.size
  return engine.shared === undefined ? estimateSize(entry.value) : undefined
}

/** The size of what the shared tier stores under `fullKey`, read once. */
async function storedSize(engine: Engine, fullKey: string): Promise<number | undefined> {
  const read = await engine.shared?.read([fullKey])
  return read?.entries[0]?.size
}

/** `cache.dependents()`: up to `limit` keys of one namespace in L1 whose tags include `tag`. */
export function findDependents(
  engine: Engine,
  tag: string,
  l1Prefix: string,
  limit: number,
): string[] {
  const keys: string[] = []
  if (engine.l1 === undefined) return keys
  for (const [l1Key, entry] of engine.l1.entries()) {
    if (keys.length >= limit) break
    // The root's own keys never start with \0; children's always do.
    const ours = l1Prefix === '' ? l1Key.charCodeAt(0) !== 0 : l1Key.startsWith(l1Prefix)
    if (ours && entry.tags.includes(tag)) keys.push(l1Key.slice(l1Prefix.length))
  }
  return keys
}
