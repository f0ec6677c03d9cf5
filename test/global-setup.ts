import type { TestProject } from 'vitest/node'

import { answers, startRedis } from './helpers/redis-server.js'

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string
  }
}

/**
 * One Redis for the whole run: `REDIS_URL`, else 127.0.0.1:6379 when it answers, else a
 * `redis-server` started here. Test files never flush it: each uses its own key prefix.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const candidate = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  if (await answers(candidate)) {
    project.provide('redisUrl', candidate)
    return async () => {}
  }
  const own = await startRedis()
  project.provide('redisUrl', own.url)
  return () => own.kill()
}
