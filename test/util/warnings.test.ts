import { afterEach, describe, expect, it } from 'vitest'

import type { Redis } from 'ioredis'

import { createInvalidationClient, flushCache } from '../../src/client/index.js'
import { checkEvictionPolicy } from '../../src/redis/runner.js'
import {
  CLIENT_FLUSH_DROPPED,
  createWarning,
  definedWarnings,
  REDIS_EVICTION_POLICY,
} from '../../src/warnings.js'

function capture(): { warnings: Error[]; stop: () => void } {
  const warnings: Error[] = []
  const listener = (warning: Error) => warnings.push(warning)
  process.on('warning', listener)
  return { warnings, stop: () => process.off('warning', listener) }
}

/** Node emits warnings on the next tick. */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('coded warnings (src/warnings.ts)', () => {
  afterEach(() => {
    REDIS_EVICTION_POLICY.reset()
    CLIENT_FLUSH_DROPPED.reset()
  })

  it('emits a `once` warning the first time only, with its code and name', async () => {
    const { warnings, stop } = capture()
    REDIS_EVICTION_POLICY('allkeys-lru')
    REDIS_EVICTION_POLICY('allkeys-lru')
    await tick()
    stop()
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatchObject({
      code: 'CACHEGRAPH_REDIS_POLICY',
      name: 'CachegraphWarning',
    })
    expect(warnings[0]?.message).toContain("'allkeys-lru'")
    expect(REDIS_EVICTION_POLICY.emitted).toBe(true)
  })

  it('emits a warning that is not `once` every time', async () => {
    const every = createWarning({
      code: 'CACHEGRAPH_TEST_EVERY',
      message: (n: number) => `call ${n}`,
      once: false,
    })
    const { warnings, stop } = capture()
    every(1)
    every(2)
    await tick()
    stop()
    expect(warnings.map((w) => w.message)).toEqual(['call 1', 'call 2'])
  })

  it('keeps one definition per code, all with the CACHEGRAPH_ prefix', () => {
    expect(() => createWarning({ code: 'CACHEGRAPH_REDIS_POLICY', message: () => '' })).toThrow()
    for (const code of definedWarnings().keys()) expect(code).toMatch(/^CACHEGRAPH_[A-Z_]+$/)
  })

  it('is how the Redis store and the client warn: each warning carries its code', async () => {
    const { warnings, stop } = capture()
    // One CONFIG GET answer is all the check reads.
    const client = { config: async () => ['maxmemory-policy', 'allkeys-lru'] } as unknown as Redis
    await checkEvictionPolicy(client)
    const invalidations = createInvalidationClient({ apiUrl: 'http://127.0.0.1:1' })
    invalidations.invalidate([''])
    invalidations.invalidate([''])
    await invalidations.close()
    const url = process.env.CACHE_INVALIDATION_URL
    delete process.env.CACHE_INVALIDATION_URL
    try {
      flushCache({ entityId: 1, entityType: 'product' })
      flushCache({ entityId: 2, entityType: 'product' })
    } finally {
      if (url !== undefined) process.env.CACHE_INVALIDATION_URL = url
    }
    await tick()
    stop()
    expect(warnings.map((w) => (w as Error & { code?: string }).code)).toEqual([
      'CACHEGRAPH_REDIS_POLICY',
      'CACHEGRAPH_CLIENT_DROPPED',
      'CACHEGRAPH_CLIENT_FLUSH_DROPPED',
    ])
    expect(warnings[1]?.name).toBe('CachegraphClientWarning')
    expect(warnings[1]?.message).toMatch(/a tag must be a non-empty string \(rejected; /)
    expect(warnings[2]?.message).toMatch(/`apiUrl`.*; invalidation dropped$/)
  })
})
