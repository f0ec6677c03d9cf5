import type { TestProject } from 'vitest/node'

import { Redis } from 'ioredis'

import { answers, startRedis } from './helpers/redis-server.js'

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string
  }
}

/**
 * Deletes what the tests left in a Redis that is not theirs: every key of a `uniquePrefix()`
 * (`cgtest:<uuid>:…` entries and `{cgtest:<uuid>}:…` state), found with SCAN so a large
 * database is never blocked. Other keys are left alone.
 */
async function removeTestKeys(url: string): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 })
  client.on('error', () => {}) // a cleanup that cannot connect leaves the keys; the run's result stands
  try {
    for (const pattern of ['cgtest:*', '{cgtest:*']) {
      let cursor = '0'
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
        if (keys.length > 0) await client.unlink(...keys)
        cursor = next
      } while (cursor !== '0')
    }
  } catch {
    // Same as above: leftovers are harmless, each run uses fresh prefixes.
  } finally {
    client.disconnect()
  }
}

/**
 * One Redis for the whole run: `REDIS_URL`, else 127.0.0.1:6379 when it answers, else a
 * `redis-server` started here. Test files never flush it: each uses its own key prefix, and the
 * keys of those prefixes are deleted when the run ends.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const candidate = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  if (await answers(candidate)) {
    project.provide('redisUrl', candidate)
    return () => removeTestKeys(candidate)
  }
  const own = await startRedis()
  project.provide('redisUrl', own.url)
  return () => own.kill()
}
