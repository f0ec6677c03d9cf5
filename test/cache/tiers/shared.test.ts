import { afterEach, describe, expect, it } from 'vitest'

import { type Cache, createCache, memoryStore } from '../../../src/index.js'

/**
 * A read of a big batch goes to the store in parts (1,000 keys each). Each part's entries are
 * judged against the tag records that part brought, as it arrives: later parts may push those
 * records out of a process's bounded registry (`maxTags`), and the entries read before must not
 * turn into misses because of it.
 */
describe('shared tier: a batch read in parts', () => {
  const caches: Cache[] = []
  afterEach(async () => {
    await Promise.all(caches.splice(0).map((cache) => cache.close()))
  })

  it('serves every entry of a batch whose tags outnumber maxTags', async () => {
    const store = memoryStore({ maxTags: 100_000 })
    const writer = createCache({ namespace: 'big', store, l1: false })
    // Another process, with room for fewer tag records than the batch brings (3 parts of
    // 1,000 entries, each with the record of its key tag: 3,000 records).
    const reader = createCache({ namespace: 'big', store, l1: false, maxTags: 1_200 })
    caches.push(writer, reader)
    const keys = Array.from({ length: 3_000 }, (_, i) => `k${i}`)
    const stored = await writer.setMany(keys.map((key, i) => ({ key, value: i, tags: [`t:${i}`] })))
    expect(stored.every(Boolean)).toBe(true)

    const values = await reader.getMany(keys)
    expect(values.filter((value) => value === undefined)).toHaveLength(0)
    expect(values).toEqual(keys.map((_, i) => i))

    // getOrSetMany reads the same way: nothing is loaded again.
    let loaded = 0
    const again = await reader.getOrSetMany(keys, (missing) => {
      loaded += missing.length
      return missing.map(() => -1)
    })
    expect(loaded).toBe(0)
    expect(again).toEqual(keys.map((_, i) => i))
  })

  it('still refuses an entry invalidated before the read, whatever the part', async () => {
    const store = memoryStore()
    const writer = createCache({ namespace: 'big', store, l1: false })
    const reader = createCache({ namespace: 'big', store, l1: false, maxTags: 1_200 })
    caches.push(writer, reader)
    const keys = Array.from({ length: 3_000 }, (_, i) => `k${i}`)
    await writer.setMany(keys.map((key, i) => ({ key, value: i, tags: [`t:${i}`] })))
    await writer.invalidate(['t:5', 't:1500', 't:2999'])
    const values = await reader.getMany(keys)
    expect([values[5], values[1500], values[2999]]).toEqual([undefined, undefined, undefined])
    expect(values.filter((value) => value === undefined)).toHaveLength(3)
  })
})
