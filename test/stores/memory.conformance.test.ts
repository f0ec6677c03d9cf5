import { describe, expect, it } from 'vitest'

import { MemoryStore } from '../../src/stores/memory.js'
import { storeConformance } from '../../src/testing/index.js'

storeConformance(
  'memory',
  { describe, it, expect },
  {
    create: () => new MemoryStore(),
    loseState: (store) => (store as MemoryStore).reset(),
  },
)

describe('memory store bounds', () => {
  it('forgetting a tag record raises the floor instead of reviving older entries', async () => {
    const store = new MemoryStore({ maxTags: 2 })
    const { seq: start } = await store.read([])
    await store.invalidate(['a'])
    await store.invalidate(['b'])
    await store.invalidate(['c']) // 'a' is forgotten: the floor rises to its sequence
    const result = await store.write([{ key: 'k', payload: 'p', tags: ['a'], start, ttlMs: 1000 }])
    expect(result.written).toEqual([false])
    const read = await store.read([])
    const later = await store.write([
      { key: 'k', payload: 'p', tags: ['a'], start: read.seq, ttlMs: 1000 },
    ])
    expect(later.written).toEqual([true])
  })

  it('evicts the oldest entries past maxEntries', async () => {
    const store = new MemoryStore({ maxEntries: 2 })
    for (const key of ['a', 'b', 'c'])
      await store.write([{ key, payload: key, tags: [], ttlMs: 1000 }])
    const { entries } = await store.read(['a', 'b', 'c'])
    expect(entries.map((e) => e?.payload)).toEqual([undefined, 'b', 'c'])
  })
})
