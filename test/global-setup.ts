import type { TestProject } from 'vitest/node'

import { randomUUID } from 'node:crypto'

import { Redis } from 'ioredis'

import { answers, startRedis } from './helpers/redis-server.js'
import { unlinkMatching } from './helpers/unlink-prefix.js'

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string
    /** This run's id: every `uniquePrefix()` of the run starts `cgtest:<run>:`. */
    testRun: string
  }
}

/**
 * Deletes what this run's tests left in a Redis that is not theirs: every key of a
 * `uniquePrefix()` of the run (`cgtest:<run>:<uuid>:…` entries and `{cgtest:<run>:<uuid>}:…`
 * state). Keys of another run going on at the same time on the same server are left alone.
 */
async function removeTestKeys(url: string, run: string): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 })
  client.on('error', () => {}) // a cleanup that cannot connect leaves the keys; the run's result stands
  try {
    await unlinkMatching(client, [`cgtest:${run}:*`, `{cgtest:${run}:*`])
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
  const run = randomUUID().slice(0, 8)
  project.provide('testRun', run)
  const candidate = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  if (await answers(candidate)) {
    project.provide('redisUrl', candidate)
    return () => removeTestKeys(candidate, run)
  }
  const own = await startRedis()
  project.provide('redisUrl', own.url)
  return () => own.kill()
}
