import { afterEach, describe, expect, it } from 'vitest'

import { createCache, isCacheError, memoryStore } from '../../src/index.js'

function optionError(run: () => unknown): { code: string; message: string } {
  try {
    run()
  } catch (error) {
    if (isCacheError(error)) return { code: error.code, message: error.message }
    throw error
  }
  throw new Error('expected a CacheError')
}

describe('options are checked at creation', () => {
  afterEach(() => {
    delete process.env.CACHEGRAPH_ENABLED
  })

  it.each([
    [{ ttl: -1 }, 'ttl'],
    [{ ttl: '5 minutes' }, 'ttl'],
    [{ grace: 'soon' }, 'grace'],
    [{ jitter: 2 }, 'jitter'],
    [{ l1: { maxEntries: 0 } }, 'l1.maxEntries'],
    [{ l1: { maxEntries: 1.5 } }, 'l1.maxEntries'],
    [{ l1: { maxBytes: -5 } }, 'l1.maxBytes'],
    [{ l1: { sizeOf: 3 } }, 'l1.sizeOf'],
    [{ l1: { maxEntrys: 3 } }, 'l1.maxEntrys'],
    [{ l1: false }, 'l1'],
    [{ namespace: 'a b' }, 'namespace'],
    [{ namespace: 'a:b' }, 'namespace'],
    [{ store: {} }, 'store'],
    [{ maxLifetime: 0 }, 'maxLifetime'],
    [{ maxLifetime: Infinity }, 'maxLifetime'],
    [{ clock: {} }, 'clock'],
    [{ enabled: 'yes' }, 'enabled'],
    [{ tll: '5m' }, 'tll'],
  ])('%j is rejected naming `%s`', (options, name) => {
    const error = optionError(() => createCache(options as never))
    expect(error.code).toBe('E_INVALID_OPTION')
    expect(error.message).toContain(`\`${name}\``)
  })

  it('accepts durations as numbers and strings', () => {
    for (const ttl of [0, 250, '250ms', '10s', '5m', '1h', '1d', Infinity]) {
      expect(() => createCache({ ttl: ttl as never })).not.toThrow()
    }
  })

  it('l1: false is allowed with a store', () => {
    expect(() => createCache({ l1: false, store: memoryStore() })).not.toThrow()
  })

  it('child namespaces are checked too', () => {
    const error = optionError(() => createCache().namespace('bad name'))
    expect(error.code).toBe('E_INVALID_OPTION')
  })

  it('CACHEGRAPH_ENABLED=false disables caching', async () => {
    process.env.CACHEGRAPH_ENABLED = 'false'
    const cache = createCache()
    let runs = 0
    await cache.getOrSet('k', () => ++runs)
    await cache.getOrSet('k', () => ++runs)
    expect(runs).toBe(2)
  })
})
