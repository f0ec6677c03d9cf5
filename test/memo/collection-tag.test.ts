import { describe, expect, it } from 'vitest'

import { collectionTag, createCache, entityTag, isCacheError } from '../../src/index.js'
import { resultEntityTags } from '../../src/memo/entities.js'

describe('collectionTag', () => {
  it('is one tag per entity type, distinct from every entity tag of that type', () => {
    expect(collectionTag('product')).toBe('product[]')
    expect(collectionTag('product')).not.toBe(entityTag('product', '[]'))
    expect(collectionTag('product')).not.toBe(collectionTag('order'))
  })

  it('rejects an empty or non-string type with E_INVALID_TAG', () => {
    for (const type of ['', undefined, 7]) {
      let error: unknown
      try {
        collectionTag(type as string)
      } catch (caught) {
        error = caught
      }
      expect(isCacheError(error) && error.code).toBe('E_INVALID_TAG')
    }
  })
})

describe('results that list entities depend on their collection tag', () => {
  it('a list, an empty list and a page list; a single entity and nothing do not', () => {
    expect(resultEntityTags([{ id: 1 }, { id: 2 }], 'user')).toEqual(['user:1', 'user:2', 'user[]'])
    expect(resultEntityTags([], 'user')).toEqual(['user[]'])
    expect(resultEntityTags({ items: [], next: null }, 'user')).toEqual(['user[]'])
    expect(resultEntityTags(new Set([{ id: 3 }]), 'user')).toEqual(['user:3', 'user[]'])
    expect(resultEntityTags({ id: 1, friends: [{ id: 2 }] }, 'user')).toEqual(['user:1'])
    expect(resultEntityTags(null, 'user')).toEqual([])
    expect(resultEntityTags({ count: 0 }, 'user')).toEqual([])
  })

  it('wrap({ entity }): invalidating the collection tag drops the list, not the single entity', async () => {
    const cache = createCache({})
    let rows = [{ id: 1 }]
    let loads = 0
    const list = cache.wrap(
      async () => {
        loads++
        return [...rows]
      },
      { name: 'listProducts', entity: 'product' },
    )
    const one = cache.wrap(
      async (id: number) => {
        loads++
        return rows.find((row) => row.id === id) ?? null
      },
      { name: 'getProduct', entity: 'product' },
    )
    expect(await list()).toEqual([{ id: 1 }])
    expect(await one(1)).toEqual({ id: 1 })
    rows = [...rows, { id: 2 }] // an insert: no entity tag of the new row is held by anything
    await cache.invalidate(collectionTag('product'))
    expect(await list()).toEqual([{ id: 1 }, { id: 2 }])
    expect(await one(1)).toEqual({ id: 1 })
    expect(loads).toBe(3)
    await cache.close()
  })
})
