import { describe, expect, it } from 'vitest'

import { systemClock } from '../../src/clock.js'
import { Sequence } from '../../src/cache/model/sequence.js'
import { TagRegistry, Validity } from '../../src/cache/model/tag-registry.js'
import { richJson } from '../../src/cache/serializer.js'
import { encodeEntry } from '../../src/cache/tiers/entry-codec.js'
import { SharedTier } from '../../src/cache/tiers/shared.js'
import { StoreAccess } from '../../src/cache/tiers/store-access.js'
import { type RedisStore, redisStore } from '../../src/redis/store.js'
import { redisClient, uniquePrefix } from '../helpers/tiers.js'

/**
 * A proven read (no bus: one MGET, reply.ts `parseProven`) brings no tag records: the store
 * vouches that none of its records is above the entry's tags' starts. The engine then judges the
 * entry by its own records alone — and, for a tag it has no record of below its floor (it forgot
 * it, or started over above the entry), by the store's word instead of taking it for invalidated.
 */
describe('a proven entry is judged by what the process knows beyond the store', () => {
  async function setUp() {
    const store = redisStore({ client: redisClient(), prefix: uniquePrefix() }) as RedisStore
    const meta = { createdAt: 0, expiresAt: Date.now() + 60_000, staleUntil: 0, version: undefined }
    const written = await store.write([
      {
        key: 'k',
        payload: encodeEntry(richJson, { v: 1 }, meta),
        tags: ['t', 'u', '@key:k'],
        keyTag: '@key:k',
        ttlMs: 60_000,
      },
    ])
    const start = written.starts[0] as number
    const registry = new TagRegistry(100)
    const sequence = new Sequence(Date.now(), {
      lost: () => {},
      current: async () => undefined,
    })
    const access = new StoreAccess(
      store,
      {
        guard: {
          timeouts: { read: 10_000, write: 10_000, invalidate: 10_000, scan: 10_000 },
          failures: undefined,
          cooldownMs: 0,
        },
        maxReplayTags: 100,
        rootTag: '@ns:',
        clock: systemClock,
      },
      { circuit: () => {}, replayed: () => {} },
    )
    let checkedReads = 0
    const read = store.read.bind(store)
    store.read = (keys) => {
      checkedReads++
      return read(keys)
    }
    const tier = new SharedTier(store, access, {
      registry,
      sequence,
      sync: () => undefined,
      serializer: richJson,
      strict: true,
      failed: () => {},
      reportError: () => {},
    })
    const validity = async () => {
      const result = await tier.read(['k'])
      return result?.entries[0]?.validity
    }
    return { start, registry, validity, checkedReads: () => checkedReads }
  }

  it('is valid when the process knows nothing of its tags', async () => {
    const { validity, checkedReads } = await setUp()
    expect(await validity()).toBe(Validity.Valid)
    expect(checkedReads()).toBe(0)
  })

  it('is valid when the process forgot its tags below a floor above the entry', async () => {
    const { start, registry, validity, checkedReads } = await setUp()
    registry.reset(start + 10)
    expect(registry.decides(['t', 'u', '@key:k'], start)).toBe(false)
    expect(await validity()).toBe(Validity.Valid)
    expect(checkedReads()).toBe(0)
  })

  it('is invalid or stale by a record of the process above its start, floor or not', async () => {
    const { start, registry, validity } = await setUp()
    registry.apply(['u'], start + 1, true)
    expect(await validity()).toBe(Validity.Soft)
    registry.apply(['t'], start + 2, false)
    expect(await validity()).toBe(Validity.Invalid)
    registry.reset(start + 10)
    registry.apply(['t'], start + 11, false)
    expect(await validity()).toBe(Validity.Invalid)
  })
})
