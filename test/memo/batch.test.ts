import { describe, expect, it } from 'vitest'

import { createCache, dependsOn, memoryStore } from '../../src/index.js'
import { deferred, settle } from '../helpers/deferred.js'

describe('getOrSetMany', () => {
  it('calls loadMany once with the misses; keys it does not return are not cached', async () => {
    const cache = createCache({ store: memoryStore() })
    await cache.set('a', 'cached a')
    const calls: string[][] = []
    const loadMany = async (keys: string[]) => {
      calls.push(keys)
      return new Map(keys.filter((k) => k !== 'missing').map((k) => [k, `loaded ${k}`]))
    }
    expect(await cache.getOrSetMany(['a', 'b', 'c', 'missing', 'b'], loadMany)).toEqual([
      'cached a',
      'loaded b',
      'loaded c',
      undefined,
      'loaded b',
    ])
    expect(calls).toEqual([['b', 'c', 'missing']])
    expect(await cache.getMany(['b', 'c', 'missing'])).toEqual(['loaded b', 'loaded c', undefined])
  })

  it('accepts lists aligned with the keys and records; per-key and batch-wide tags', async () => {
    const cache = createCache()
    const values = await cache.getOrSetMany(
      ['x', 'y'],
      (keys) => {
        dependsOn('table:items')
        return keys.map((k) => ({ id: k }))
      },
      { tags: (key) => [`item:${key}`] },
    )
    expect(values).toEqual([{ id: 'x' }, { id: 'y' }])
    await cache.invalidate('item:x')
    expect(await cache.getMany(['x', 'y'])).toEqual([undefined, { id: 'y' }])
    await cache.invalidate('table:items')
    expect(await cache.get('y')).toBeUndefined()
    expect(await cache.getOrSetMany(['r'], () => ({ r: 1 }))).toEqual([1])
  })

  it('an invalidation during loadMany voids its writes', async () => {
    const cache = createCache({ store: memoryStore() })
    const gate = deferred<Record<string, string>>()
    const pending = cache.getOrSetMany(['k'], () => gate.promise, { tags: () => ['t'] })
    await settle()
    await cache.invalidate('t')
    gate.resolve({ k: 'old' })
    expect(await pending).toEqual(['old'])
    expect(await cache.get('k')).toBeUndefined()
  })
})

describe('batch (DataLoader-style)', () => {
  it('collects concurrent misses into one loadMany call and caches each key', async () => {
    const cache = createCache()
    const calls: string[][] = []
    const user = cache.batch(async (ids: string[]) => {
      calls.push(ids)
      return Object.fromEntries(ids.map((id) => [id, { id }]))
    })
    expect(await Promise.all([user('1'), user('2'), user('1'), user('3')])).toEqual([
      { id: '1' },
      { id: '2' },
      { id: '1' },
      { id: '3' },
    ])
    expect(calls).toEqual([['1', '2', '3']])
    await user('2')
    expect(calls).toHaveLength(1)
  })

  it('splits by maxBatchSize and waits windowMs', async () => {
    const cache = createCache()
    const calls: string[][] = []
    const load = cache.batch(
      async (keys: string[]) => {
        calls.push(keys)
        return keys
      },
      { maxBatchSize: 2, windowMs: 5 },
    )
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((k) => load(k)))
    expect(calls).toEqual([['a', 'b'], ['c', 'd'], ['e']])
  })

  it('fans an error out to every waiter, caches nothing', async () => {
    const cache = createCache()
    const failure = new Error('backend down')
    let attempts = 0
    const load = cache.batch(async () => {
      attempts++
      throw failure
    })
    const results = await Promise.allSettled([load('a'), load('b')])
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as Error) : r))).toEqual([
      failure,
      failure,
    ])
    await expect(load('a')).rejects.toBe(failure)
    expect(attempts).toBe(2)
  })

  it('tags recorded by loadMany apply to every key of the batch', async () => {
    const cache = createCache()
    const load = cache.batch(
      async (keys: string[]) => {
        dependsOn('users-table')
        return keys.map((k) => k.toUpperCase())
      },
      { tags: (key) => [`user:${key}`] },
    )
    await Promise.all([load('a'), load('b')])
    await cache.invalidate('user:a')
    expect(await cache.getMany(['a', 'b'])).toEqual([undefined, 'B'])
    await cache.invalidate('users-table')
    expect(await cache.get('b')).toBeUndefined()
  })
})

describe('warm', () => {
  it('loads missing keys and leaves existing entries alone', async () => {
    const cache = createCache()
    await cache.set('a', 'kept')
    await cache.warm({ a: () => 'overwritten?', b: () => 'warmed' })
    expect(await cache.getMany(['a', 'b'])).toEqual(['kept', 'warmed'])
  })
})
