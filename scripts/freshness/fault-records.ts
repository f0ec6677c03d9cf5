/**
 * The `evict-records` fault: the tag records of the run's store (`{P}:h`, `{P}:s`, see
 * src/redis/keys.ts) go missing while the sequence, epoch and floor stay — what a
 * `DEL`, a partial restore or an eviction under `allkeys-lru` does. Alternately:
 *
 * - `del`: both hashes deleted at once;
 * - `squeeze`: `maxmemory` set below what the server uses, with `allkeys-lru`, for a moment, so
 *   Redis evicts keys of its choice (entries, records, the log); then the server's own settings
 *   are put back. Every read touches the records, so LRU would never pick them: they are made
 *   to look idle first (`RESTORE ... IDLETIME`, in the same transaction as the squeeze, so
 *   nothing touches them in between) — the case of a big fleet whose records are the coldest.
 *
 * Only ever on the run's own `redis-server` (topology.ts): never the machine's Redis.
 */
import { setTimeout as sleep } from 'node:timers/promises'

import type { Redis } from 'ioredis'

/** How long the server stays squeezed. */
export const SQUEEZE_MS = 300
/** The squeeze's limit: the memory in use less this share of the dataset. */
const SQUEEZE_SHARE = 0.9

export type EvictMode = 'del' | 'squeeze'

/** Loses the records; returns what happened, for the fault's log. */
export async function evictRecords(
  admin: Redis,
  keys: readonly string[],
  mode: EvictMode,
  signal: AbortSignal,
): Promise<string> {
  if (mode === 'del') {
    const deleted = await admin.del(...keys)
    return `DEL ${keys.join(' ')} (${deleted} deleted)`
  }
  const [, policy] = (await admin.call('CONFIG', 'GET', 'maxmemory-policy')) as [string, string]
  const [, limit] = (await admin.call('CONFIG', 'GET', 'maxmemory')) as [string, string]
  const memory = info(await admin.info('memory'))
  const before = info(await admin.info('stats')).evicted_keys ?? 0
  const used = memory.used_memory ?? 0
  // Which keys go: Redis names each evicted key on a keyspace channel, once asked to.
  const [, notify] = (await admin.call('CONFIG', 'GET', 'notify-keyspace-events')) as [
    string,
    string,
  ]
  const listener = admin.duplicate()
  listener.on('error', () => {})
  const gone = new Set<string>()
  listener.on('message', (_channel: string, key: string) => {
    if (keys.includes(key)) gone.add(key)
  })
  await listener.subscribe('__keyevent@0__:evicted')
  await admin.call('CONFIG', 'SET', 'notify-keyspace-events', 'Ee')
  const target = Math.max(1, Math.floor(used - (memory.used_memory_dataset ?? 0) * SQUEEZE_SHARE))
  try {
    // One transaction: nothing reads the records between their ageing and the squeeze.
    await admin
      .multi()
      .eval(AGE, keys.length, ...keys)
      .call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru')
      .call('CONFIG', 'SET', 'maxmemory', String(target))
      .exec()
    // Redis evicts as it processes commands: the workers' and this one's.
    await admin.ping()
    await sleep(SQUEEZE_MS, undefined, { signal }).catch(() => {})
  } finally {
    await admin.call('CONFIG', 'SET', 'maxmemory', limit)
    await admin.call('CONFIG', 'SET', 'maxmemory-policy', policy)
    await admin.call('CONFIG', 'SET', 'notify-keyspace-events', notify)
    // Its own PING comes back after every notification published before it.
    await listener.ping().catch(() => {})
    listener.disconnect()
  }
  const evicted = (info(await admin.info('stats')).evicted_keys ?? 0) - before
  return (
    `maxmemory ${target} (of ${used} used) with allkeys-lru for ${SQUEEZE_MS} ms: ` +
    `${evicted} keys evicted, of them ${gone.size} of the ${keys.length} records hashes`
  )
}

/** Rewrites each key as it is (atomically, in a script) with an LRU idle time of a day. */
const AGE = `
for _, key in ipairs(KEYS) do
  local dump = redis.call('DUMP', key)
  if dump then redis.call('RESTORE', key, 0, dump, 'REPLACE', 'IDLETIME', 86400) end
end`

/** The numeric fields of an `INFO` section. */
function info(text: string): Record<string, number> {
  const fields: Record<string, number> = {}
  for (const line of text.split('\r\n')) {
    const [name, value] = line.split(':')
    if (name !== undefined && value !== undefined && /^\d+$/.test(value))
      fields[name] = Number(value)
  }
  return fields
}
