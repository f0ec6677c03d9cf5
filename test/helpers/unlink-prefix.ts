import type { Redis } from 'ioredis'

import { allKeyPatterns } from '../../src/redis/keys.js'

/**
 * Deletes every key of a Redis store's prefix with `UNLINK`, which frees big values off Redis's
 * main thread: a `DEL` of a hash holding a million tag records blocks the server (shared with
 * the other test files) for ~0.4 s. For tests that leave big batches behind.
 */
export function unlinkPrefix(client: Redis, prefix: string): Promise<void> {
  return unlinkMatching(client, allKeyPatterns(prefix))
}

/**
 * Deletes every key matching one of `patterns` (SCAN + UNLINK, never KEYS: a large database is
 * not blocked). The keys are gone at once; Redis frees big values off its main thread.
 */
export async function unlinkMatching(client: Redis, patterns: readonly string[]): Promise<void> {
  for (const pattern of patterns) {
    let cursor = '0'
    do {
      const [next, found] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
      if (found.length > 0) await client.unlink(...found)
      cursor = next
    } while (cursor !== '0')
  }
}
