import type { EntryInfo } from '../../types/options.js'
import type { Engine } from '../engine.js'
import { Validity } from '../model/tag-registry.js'
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
      size: local.size || (await sizeOf(engine, fullKey, local.value)),
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
 * The size of an L1 entry that was kept without one (sizes are computed only for `l1.maxBytes`
 * and `maxEntryBytes`): what the shared tier stores for it, read once; else, for an entry that
 * lives only in this process, the L1 estimate.
 */
async function sizeOf(
  engine: Engine,
  fullKey: string,
  value: unknown,
): Promise<number | undefined> {
  if (engine.shared === undefined) return estimateSize(value)
  const read = await engine.shared.read([fullKey])
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
