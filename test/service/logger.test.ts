import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest'

import { createAdminHandler } from '../../src/http/index.js'
import { type Cache, createCache, isCacheError, memoryStore } from '../../src/index.js'
import { redisBus } from '../../src/redis/bus.js'
import { redisStore } from '../../src/redis/store.js'
import { createInvalidationService } from '../../src/service/service.js'
import { faultyStore } from '../../src/testing/index.js'
import { INVALIDATION_UNHEARD, type Logger } from '../../src/warnings.js'
import { trusted, uniquePrefix } from '../helpers/tiers.js'
import { recordingLogger, silenceWatch } from '../helpers/logger.js'

/**
 * The service's `logger` (issue 24): its warnings and the errors it reports reach the logger —
 * its own, or by default the cache's — and nothing reaches the console or process warnings.
 */
const KEY = 'k-1'
const open: { close(): Promise<void> }[] = []

beforeEach(() => INVALIDATION_UNHEARD.reset())
afterEach(async () => {
  vi.restoreAllMocks()
  INVALIDATION_UNHEARD.reset()
  await Promise.all(open.splice(0).map((one) => one.close()))
})

/** A cache with a Redis store and bus on a prefix of its own, which no other process hears. */
async function alone(logger?: Logger): Promise<Cache> {
  const cache = createCache({
    namespace: 'shop',
    store: redisStore({ url: inject('redisUrl'), prefix: uniquePrefix() }),
    bus: redisBus({ maxSilence: '2s' }),
    ...(logger === undefined ? {} : { logger }),
  })
  open.push(cache)
  return trusted(cache)
}

const invalidation = (path: string, body: unknown) =>
  new Request(`http://x${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': KEY },
    body: JSON.stringify(body),
  })

describe('the service logger', () => {
  it('is checked when the service is created, naming the option', () => {
    const cache = createCache({})
    for (const logger of ['info', {}, { warn() {}, error() {} }]) {
      try {
        createInvalidationService({ cache, apiKeys: [KEY], logger: logger as unknown as Logger })
        expect.fail('accepted')
      } catch (error) {
        expect(isCacheError(error, 'E_INVALID_OPTION')).toBe(true)
        expect((error as Error).message).toMatch(/option `service\.logger` must have warn\(\)/)
      }
    }
    expect(() =>
      createInvalidationService({ cache, apiKeys: [KEY], logger: console }),
    ).not.toThrow()
    expect(() => createAdminHandler({ cache, insecure: true, logger: {} as Logger })).toThrow(
      /option `admin\.logger` must have warn\(\)/,
    )
  })

  it('receives the unheard warning of both invalidation routes, in place of the cache logger', async () => {
    const watch = silenceWatch()
    const cacheLogger = recordingLogger()
    const logger = recordingLogger()
    const service = createInvalidationService({
      cache: await alone(cacheLogger),
      apiKeys: [KEY],
      logger,
    })
    const answer = await service(invalidation('/cache/invalidate', { tags: ['t'] }))
    expect(answer.status).toBe(200)
    expect(await answer.json()).toMatchObject({ heard_by: 0 })
    INVALIDATION_UNHEARD.reset()
    const admin = await service(invalidation('/api/cache/invalidate', { tags: ['t'] }))
    expect(admin.status).toBe(200)
    expect(await admin.json()).toMatchObject({ heard_by: 0 })

    const unheard = { level: 'warn', object: { code: 'CACHEGRAPH_INVALIDATION_UNHEARD' } }
    expect(logger.logged).toMatchObject([unheard, unheard])
    expect(logger.logged[0]?.message).toMatch(/namespace 'shop' \(store: redis\) reached no other/)
    expect(cacheLogger.logged).toEqual([])
    expect(watch.calls()).toBe(0)
  })

  it("defaults to the cache's logger", async () => {
    const watch = silenceWatch()
    const cacheLogger = recordingLogger()
    const service = createInvalidationService({ cache: await alone(cacheLogger), apiKeys: [KEY] })
    expect((await service(invalidation('/cache/invalidate', { tags: ['t'] }))).status).toBe(200)
    expect(cacheLogger.logged).toMatchObject([
      { level: 'warn', object: { code: 'CACHEGRAPH_INVALIDATION_UNHEARD' } },
    ])
    expect(watch.calls()).toBe(0)
  })

  it('without onError, logs an invalidation the store did not record, and a failed purge', async () => {
    const watch = silenceWatch()
    const store = faultyStore(memoryStore())
    const cache = createCache({ store })
    open.push(cache)
    const logger = recordingLogger()
    let purged: () => void = () => {}
    const purgeFailed = new Promise<void>((resolve) => (purged = resolve))
    const service = createInvalidationService({
      cache,
      apiKeys: [KEY],
      logger: { ...logger, error: (object, message) => (logger.error(object, message), purged()) },
      cdn: {
        vendor: 'fastly',
        awaitPurge: true,
        purger: { purge: () => Promise.reject(new Error('edge down')) },
      },
    })
    store.faults.set({ operations: ['invalidate'], error: true })
    expect((await service(invalidation('/cache/invalidate', { tags: ['t'] }))).status).toBe(503)
    store.faults.heal()
    expect(logger.logged).toMatchObject([
      {
        level: 'error',
        object: {
          code: 'E_INVALIDATION_NOT_RECORDED',
          operation: 'service:invalidate',
          method: 'POST',
          path: '/cache/invalidate',
        },
      },
    ])
    expect((await service(invalidation('/cache/invalidate', { tags: ['t'] }))).status).toBe(200)
    await purgeFailed
    expect(logger.logged[1]).toMatchObject({
      level: 'error',
      object: { operation: 'cdn:purge', method: 'POST', path: '/cache/invalidate' },
    })
    expect((logger.logged[1]?.object.err as Error).message).toBe('edge down')
    expect(watch.calls()).toBe(0)
  })

  it('leaves errors to onError when one is given', async () => {
    const store = faultyStore(memoryStore())
    const cache = createCache({ store })
    open.push(cache)
    const logger = recordingLogger()
    const errors: unknown[] = []
    const service = createInvalidationService({
      cache,
      apiKeys: [KEY],
      logger,
      onError: (error) => errors.push(error),
    })
    store.faults.set({ operations: ['invalidate'], error: true })
    expect((await service(invalidation('/cache/invalidate', { tags: ['t'] }))).status).toBe(503)
    store.faults.heal()
    expect(errors).toHaveLength(1)
    expect(isCacheError(errors[0], 'E_INVALIDATION_NOT_RECORDED')).toBe(true)
    expect(logger.logged).toEqual([])
  })
})
