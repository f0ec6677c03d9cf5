/** Cleaning up after a run: its Redis keys (the cache's and, with `--db redis`, the rows'). */
import type { Redis } from 'ioredis'

/** Deletes every key of the run (SCAN + UNLINK; never a FLUSHDB). */
export async function deleteRunKeys(admin: Redis, runId: string): Promise<number> {
  let cursor = '0'
  let deleted = 0
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `*${runId}*`, 'COUNT', 1000)
    cursor = next
    if (keys.length > 0) deleted += await admin.unlink(...keys)
  } while (cursor !== '0')
  return deleted
}
