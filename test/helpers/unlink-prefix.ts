import type { Redis } from 'ioredis'

import { allKeyPatterns } from '../../src/redis/keys.js'

/**
 * Deletes every key of a Redis store's prefix with `UNLINK`, which frees big values off Redis's
 * main thread: a `DEL` of a hash holding a million tag records blocks the server (shared with
 * the other test files) for ~0.4 s. For tests that leave big batches behind.
 */
export async function unlinkPrefix(client: Redis, prefix: string): Promise<void> {
  for (const pattern of allKeyPatterns(prefix)) {
    let cursor = '0'
    do {
      const [next, found] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
      if (found.length > 0) await client.unlink(...found)
      cursor = next
    } while (cursor !== '0')
  }
}
