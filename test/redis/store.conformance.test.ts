import { describe, expect, it } from 'vitest'

import { createCache, isCacheError } from '../../src/index.js'
import { redisStore } from '../../src/redis/store.js'
import { storeConformance } from '../../src/testing/index.js'
import {
  copyRecords,
  losePrefix,
  loseRecords,
  redisClient,
  uniquePrefix,
} from '../helpers/tiers.js'

storeConformance(
  'redis',
  { describe, it, expect },
  {
    create: () => redisStore({ client: redisClient(), prefix: uniquePrefix() }),
    loseState: losePrefix,
    loseRecords,
    copyRecords,
  },
)

describe('redis store', () => {
  it('rejects a bad prefix', () => {
    let thrown: unknown
    try {
      redisStore({ client: redisClient(), prefix: 'a b' })
    } catch (error) {
      thrown = error
    }
    expect(isCacheError(thrown, 'E_INVALID_OPTION')).toBe(true)
    expect((thrown as Error).message).toMatch(/`prefix`/)
  })

  it('keeps counters and tag records without ttl, entries always with one', async () => {
    const store = redisStore({ client: redisClient(), prefix: uniquePrefix() })
    const { prefix } = store
    await store.invalidate(['t'])
    await store.write([{ key: 'k', payload: 'p', tags: ['t'], ttlMs: 60_000 }])
    const client = redisClient()
    expect(await client.pttl(`{${prefix}}:seq`)).toBe(-1)
    expect(await client.pttl(`{${prefix}}:h`)).toBe(-1)
    const ttl = await client.pttl(`${prefix}:e:k`)
    expect(ttl).toBeGreaterThan(50_000)
    expect(ttl).toBeLessThanOrEqual(60_000)
  })

  it('rich values round-trip between processes through Redis', async () => {
    const prefix = uniquePrefix()
    const writer = createCache({ store: redisStore({ client: redisClient(), prefix }) })
    const reader = createCache({ store: redisStore({ client: redisClient(), prefix }), l1: false })
    const value = {
      when: new Date(1_700_000_000_000),
      map: new Map<unknown, unknown>([['k', new Set([1, 2])]]),
      big: 12345678901234567890n,
      bytes: new Uint8Array([1, 2, 3]),
      nothing: undefined,
      list: [1, undefined, null],
      text: '42',
      nested: { deep: [{ id: 7, at: new Date(0) }] },
    }
    await writer.set('rich', value)
    expect(await reader.get('rich')).toStrictEqual(value)
  })

  it('round-trips large sequences exactly', async () => {
    const store = redisStore({ client: redisClient(), prefix: uniquePrefix() })
    const { seq } = await store.invalidate(['x'])
    expect(Number.isSafeInteger(seq)).toBe(true)
    const written = await store.write([
      { key: 'k', payload: 'p', tags: ['x'], start: seq, tagStarts: [seq], ttlMs: 1_000 },
    ])
    expect(written.starts).toEqual([seq])
    const read = await store.read(['k'])
    expect(read.entries[0]?.start).toBe(seq)
    expect(read.entries[0]?.tagStarts).toEqual([seq])
    expect(read.tagSeqs.x?.hard).toBe(seq)
  })
})
