import { Hono } from 'hono'
import { afterEach, describe, expect, it, vi } from 'vitest'

import { cachegraph } from '../../src/adapters/hono.js'

import { createInvalidationClient, flushCache } from '../../src/client/index.js'
import { warnNow } from '../../src/client/exit-hooks.js'
import { consoleLog } from '../../src/http/adapter/setup.js'
import { resolveHttpOptions } from '../../src/http/options.js'
import { createCache, isCacheError } from '../../src/index.js'
import { memoryStore } from '../../src/stores/memory.js'
import { faultyStore } from '../../src/testing/index.js'
import { CLIENT_FLUSH_DROPPED, createWarning, type Logger } from '../../src/warnings.js'
import { recordingLogger, silenceWatch } from '../helpers/logger.js'

afterEach(() => {
  vi.restoreAllMocks()
  CLIENT_FLUSH_DROPPED.reset()
})

describe('the logger option', () => {
  it('is checked when the cache is created, naming the option', () => {
    const refuse = (logger: unknown) => {
      try {
        createCache({ logger: logger as Logger })
      } catch (error) {
        expect(isCacheError(error, 'E_INVALID_OPTION')).toBe(true)
        return (error as Error).message
      }
      throw new Error('accepted')
    }
    expect(refuse('info')).toMatch(/option `logger` must have warn\(\), error\(\) and debug\(\)/)
    expect(refuse({ warn() {}, error() {} })).toMatch(/`logger`.*not a function: debug$/)
    expect(refuse({ ...console, info: 1 })).toMatch(/not a function: info$/)
    expect(() => createInvalidationClient({ apiUrl: 'http://x', logger: {} as Logger })).toThrow(
      /option `logger`/,
    )
    expect(() => resolveHttpOptions({ cache: createCache(), logger: null as never })).toThrow(
      /option `logger`/,
    )
    // console has every level: it is a logger.
    expect(() => createCache({ logger: console })).not.toThrow()
  })

  it("receives the cache's errors at `error`, with their code, and nothing goes to the console", async () => {
    const watch = silenceWatch()
    const logger = recordingLogger()
    const cache = createCache({ logger, store: memoryStore(), maxEntryBytes: 10 })
    expect(cache.settings.logger).toBe(logger)
    expect(await cache.getOrSet('big', () => 'x'.repeat(100))).toHaveLength(100)
    await cache.close()
    expect(logger.logged).toHaveLength(1)
    expect(logger.logged[0]).toMatchObject({
      level: 'error',
      object: { code: 'E_ENTRY_TOO_LARGE', key: 'cg::big' },
    })
    expect(logger.logged[0]?.object.err).toBeInstanceOf(Error)
    expect(logger.logged[0]?.message).toMatch(/^cachegraph: .* failed$/)
    expect(watch.calls()).toBe(0)
  })

  it('logs nothing without a logger (as before)', async () => {
    const watch = silenceWatch()
    const cache = createCache({ store: memoryStore(), maxEntryBytes: 10 })
    await cache.getOrSet('big', () => 'x'.repeat(100))
    await cache.close()
    expect(watch.calls()).toBe(0)
  })

  it('receives coded warnings at `warn` with their code, once as the warning says', () => {
    const watch = silenceWatch()
    const logger = recordingLogger()
    const once = createWarning({ code: 'CACHEGRAPH_TEST_LOGGED', message: (n: number) => `n=${n}` })
    once.log(logger, 1)
    once.log(logger, 2)
    once(3)
    expect(logger.logged).toEqual([
      {
        level: 'warn',
        object: { code: 'CACHEGRAPH_TEST_LOGGED', name: 'CachegraphWarning' },
        message: 'n=1',
      },
    ])
    expect(watch.calls()).toBe(0)
  })

  it("takes the client's dropped invalidations and flushCache's failures, instead of process warnings", async () => {
    const watch = silenceWatch()
    const logger = recordingLogger()
    const client = createInvalidationClient({ apiUrl: 'http://127.0.0.1:1', logger })
    client.invalidate([''])
    await client.close()
    const url = process.env.CACHE_INVALIDATION_URL
    delete process.env.CACHE_INVALIDATION_URL
    try {
      flushCache({ entityId: 1, entityType: 'product', logger })
    } finally {
      if (url !== undefined) process.env.CACHE_INVALIDATION_URL = url
    }
    warnNow('lost at exit', 'CACHEGRAPH_CLIENT_DROPPED', logger)
    expect(logger.logged.map(({ level, object }) => [level, object.code])).toEqual([
      ['warn', 'CACHEGRAPH_CLIENT_DROPPED'],
      ['warn', 'CACHEGRAPH_CLIENT_FLUSH_DROPPED'],
      ['warn', 'CACHEGRAPH_CLIENT_DROPPED'],
    ])
    expect(logger.logged[0]?.message).toMatch(/a tag must be a non-empty string/)
    expect(logger.logged[1]?.message).toMatch(/`apiUrl`.*; invalidation dropped$/)
    expect(watch.calls()).toBe(0)
  })

  it("is where the Express and Hono adapters' default onError logs: the HTTP option, else the cache's", () => {
    const cacheLogger = recordingLogger()
    const cache = createCache({ logger: cacheLogger })
    expect(resolveHttpOptions({ cache }).logger).toBe(cacheLogger)
    const own = recordingLogger()
    expect(resolveHttpOptions({ cache, logger: own }).logger).toBe(own)
    expect(resolveHttpOptions({ cache: createCache() }).logger).toBeUndefined()

    const watch = silenceWatch()
    const failure = Object.assign(new Error('not recorded'), {
      code: 'E_INVALIDATION_NOT_RECORDED',
    })
    const where = { operation: 'http:invalidate', method: 'POST', path: '/users/1' }
    consoleLog.requestFailed(failure, { ...where, logger: own })
    expect(own.logged).toEqual([
      {
        level: 'error',
        object: { code: 'E_INVALIDATION_NOT_RECORDED', ...where, err: failure },
        message: 'cachegraph: request failed',
      },
    ])
    expect(watch.calls()).toBe(0)
    consoleLog.requestFailed(failure, where)
    expect(console.error).toHaveBeenCalledWith('cachegraph: request failed', where, failure)
  })

  it("gets a Hono app's failed write invalidation through the cache's logger, not the console", async () => {
    const watch = silenceWatch()
    const logger = recordingLogger()
    const store = faultyStore(memoryStore())
    const cache = createCache({ store, logger, storeTimeout: { invalidate: '100ms' } })
    const app = new Hono()
    app.use(cachegraph({ cache }))
    app.get('/items/:id', cachegraph.route(), (c) => c.json({ id: 1 }))
    app.patch('/items/:id', (c) => c.json({ ok: true }))
    expect((await app.request('/items/1')).headers.get('x-cache')).toBe('MISS')
    store.faults.set({ operations: ['invalidate'], error: true })
    expect((await app.request('/items/1', { method: 'PATCH' })).status).toBe(200)
    await cache.close()
    const failed = logger.logged.find((entry) => entry.message === 'cachegraph: request failed')
    expect(failed).toMatchObject({
      level: 'error',
      object: {
        code: 'E_INVALIDATION_NOT_RECORDED',
        operation: 'http:invalidate',
        method: 'PATCH',
        path: '/items/1',
      },
    })
    // The store's failure itself, as the cache's `error` event, at `error` too.
    expect(logger.logged.some((entry) => entry.object.operation === 'invalidate')).toBe(true)
    expect(watch.calls()).toBe(0)
  })
})
