import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'

import { createCache } from '../../src/index.js'
import { redisStore } from '../../src/redis/store.js'
import { type Logger, REDIS_EVICTION_POLICY } from '../../src/warnings.js'
import { type OwnRedis, startRedis } from '../helpers/redis-server.js'
import { uniquePrefix } from '../helpers/tiers.js'

/**
 * The Redis store's check of `maxmemory-policy` (issue 24): created apart from the cache, the
 * store warns to the logger of the cache it is given to; without one, as a process warning. A
 * server of this file's own, started with an evicting policy (never the shared one's config).
 */
let redis: OwnRedis
beforeAll(async () => {
  redis = await startRedis(['--maxmemory-policy', 'allkeys-lru'])
})
afterAll(() => redis.kill())
afterEach(() => {
  vi.restoreAllMocks()
  REDIS_EVICTION_POLICY.reset()
})

/** A logger whose first warning resolves `warned`. */
function waitingLogger() {
  let resolve: (warning: { object: unknown; message: string | undefined }) => void = () => {}
  const warned = new Promise<{ object: unknown; message: string | undefined }>((r) => (resolve = r))
  const logger: Logger = {
    warn: (object, message) => resolve({ object, message }),
    error: () => {},
    debug: () => {},
  }
  return { logger, warned }
}

describe('the maxmemory-policy warning', () => {
  it('goes to the logger of the cache that owns the store, and not to process warnings', async () => {
    REDIS_EVICTION_POLICY.reset()
    const emitWarning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    const { logger, warned } = waitingLogger()
    const cache = createCache({
      store: redisStore({ url: redis.url, prefix: uniquePrefix() }),
      logger,
    })
    try {
      await cache.set('k', 1)
      const warning = await warned
      expect(warning.object).toEqual({ code: 'CACHEGRAPH_REDIS_POLICY', name: 'CachegraphWarning' })
      expect(warning.message).toMatch(/maxmemory-policy is 'allkeys-lru'/)
      expect(emitWarning).not.toHaveBeenCalled()
    } finally {
      await cache.close()
    }
  })

  it('stays a coded process warning without a logger', async () => {
    REDIS_EVICTION_POLICY.reset()
    let resolve: (args: unknown[]) => void = () => {}
    const emitted = new Promise<unknown[]>((r) => (resolve = r))
    vi.spyOn(process, 'emitWarning').mockImplementation((...args: unknown[]) => resolve(args))
    const cache = createCache({ store: redisStore({ url: redis.url, prefix: uniquePrefix() }) })
    try {
      await cache.set('k', 1)
      const [message, options] = await emitted
      expect(message).toMatch(/maxmemory-policy is 'allkeys-lru'/)
      expect(options).toEqual({ type: 'CachegraphWarning', code: 'CACHEGRAPH_REDIS_POLICY' })
    } finally {
      await cache.close()
    }
  })
})
