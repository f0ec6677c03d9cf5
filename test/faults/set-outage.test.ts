import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'

import type { CacheEvents } from '../../src/cache/events.js'
import { createCache, isCacheError } from '../../src/index.js'
import { until } from '../helpers/deferred.js'
import { proxyTo, type TcpProxy } from '../helpers/tcp-proxy.js'
import { ALL_TIERS, uniquePrefix } from '../helpers/tiers.js'
import { closing, outageCache } from '../helpers/outage-caches.js'

/**
 * A `set` that no tier takes — a value over `maxEntryBytes`, a ttl of 0, a store that failed or
 * whose answer was lost — still supersedes the key's older value: nobody may serve that one on
 * (docs/faults.md, "A set that is not stored").
 */
const make = outageCache

const MAX_ENTRY_BYTES = 200
const SMALL = 'small'
const LARGE = 'x'.repeat(1_000)

describe.each(ALL_TIERS)('a set not stored drops the older value (%s)', (_name, tiers) => {
  it('too large, or a ttl of 0: a miss afterwards, never the value before', async () => {
    const cache = closing(createCache({ ...tiers(), maxEntryBytes: MAX_ENTRY_BYTES }))
    cache.on('error', () => {}) // E_ENTRY_TOO_LARGE is reported, as documented
    expect(await cache.set('k', SMALL, { tags: ['t'] })).toBe(true)
    expect(await cache.set('k', LARGE, { tags: ['t'] })).toBe(false)
    expect(await cache.get('k')).toBeUndefined()
    expect(await cache.set('k', SMALL, { tags: ['t'] })).toBe(true)
    expect(await cache.set('k', SMALL, { ttl: 0 })).toBe(false)
    expect(await cache.get('k')).toBeUndefined()
  })

  it('whatever the sequence of sets, a read sees the last one or nothing', async () => {
    const cache = closing(createCache({ ...tiers(), maxEntryBytes: MAX_ENTRY_BYTES }))
    cache.on('error', () => {})
    const write = fc.record({
      key: fc.constantFrom('a', 'b'),
      kind: fc.constantFrom('small', 'large', 'ttl0'),
    })
    let n = 0
    await fc.assert(
      fc.asyncProperty(fc.array(write, { minLength: 1, maxLength: 12 }), async (writes) => {
        const last = new Map<string, string | undefined>()
        for (const { key, kind } of writes) {
          const value = `${kind === 'large' ? LARGE : SMALL}:${n++}`
          const stored = await cache.set(key, value, kind === 'ttl0' ? { ttl: 0 } : {})
          expect(stored).toBe(kind === 'small')
          last.set(key, stored ? value : undefined)
          for (const [k, expected] of last) expect(await cache.get(k)).toBe(expected)
        }
      }),
      { numRuns: 30 },
    )
  })
})

describe('a set the store cannot take (a Redis that stops answering)', () => {
  let proxy: TcpProxy
  beforeAll(async () => {
    proxy = await proxyTo(inject('redisUrl'))
  })
  afterAll(() => proxy.close())

  it('drops the older value here, reports it, replays it: after recovery nobody reads the old one', async () => {
    const prefix = uniquePrefix()
    const writer = make(proxy.url, prefix, { breaker: { failures: 1, cooldown: '50ms' } })
    const reader = make(inject('redisUrl'), prefix, { l1: false }) // another process, unaffected
    const errors: CacheEvents['error'][] = []
    writer.on('error', (event) => errors.push(event))
    await writer.set('k', 'old', { tags: ['t'] })
    expect(await writer.get('k')).toBe('old')
    expect(await reader.get('k')).toBe('old')
    proxy.stall()
    try {
      // The write may reach Redis (the proxy holds its answer back) or not: either way false.
      expect(await writer.set('k', 'new', { tags: ['t'] })).toBe(false)
      expect(await writer.get('k')).toBeUndefined()
      expect(writer.stats().l2.replayQueue).toBe(1)
      const notRecorded = errors.filter((e) => isCacheError(e.error, 'E_INVALIDATION_NOT_RECORDED'))
      expect(notRecorded.map((e) => e.operation)).toEqual(['set'])
    } finally {
      proxy.resume()
    }
    // The next store call sends the replay first.
    await until(async () => {
      await writer.get('probe')
      return writer.stats().l2.replayQueue === 0
    })
    // Redis took 'new' or never saw it; the replayed invalidation of the key is later anyway.
    expect(await reader.get('k')).toBeUndefined()
    expect(await writer.get('k')).toBeUndefined()
  })
})
