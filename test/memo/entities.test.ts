import { describe, expect, it } from 'vitest'

import { entityTag } from '../../src/cache/tags.js'
import { CacheError } from '../../src/errors.js'
import { type EntitySpec, entityTags } from '../../src/memo/entities.js'

/** `depth` plain-object containers around `inner`: `{ child: { child: inner } }` for 2. */
const nest = (inner: unknown, depth: number): unknown => {
  let value = inner
  for (let i = 0; i < depth; i++) value = { child: value }
  return value
}

describe('entityTags: where entities are found', () => {
  it('tags a single object', () => {
    expect(entityTags({ id: 1, name: 'Ada' }, 'user')).toEqual(['user:1'])
  })

  it('builds tags with entityTag', () => {
    expect(entityTags({ id: 'a-1' }, 'user')).toEqual([entityTag('user', 'a-1')])
  })

  it('tags every object of a list, in order', () => {
    expect(entityTags([{ id: 3 }, { id: 1 }, { id: 2 }], 'user')).toEqual([
      'user:3',
      'user:1',
      'user:2',
    ])
  })

  it('walks nested lists', () => {
    expect(entityTags([[{ id: 1 }], [[{ id: 2 }]], []], 'user')).toEqual(['user:1', 'user:2'])
  })

  it('walks pages and wrappers', () => {
    expect(entityTags({ items: [{ id: 1 }, { id: 2 }], total: 2 }, 'user')).toEqual([
      'user:1',
      'user:2',
    ])
    expect(entityTags({ data: [{ id: 1 }] }, 'user')).toEqual(['user:1'])
    expect(entityTags({ results: [{ id: 1 }], next: { cursor: 'abc', page: 2 } }, 'user')).toEqual([
      'user:1',
    ])
    expect(entityTags({ user: { id: 7 } }, 'user')).toEqual(['user:7'])
    expect(entityTags({ data: { users: { items: [{ id: 1 }] } } }, 'user')).toEqual(['user:1'])
  })

  it('does not descend into an entity: its nested objects may be of other types', () => {
    const user = { id: 1, org: { id: 5 }, friends: [{ id: 2 }] }
    expect(entityTags(user, 'user')).toEqual(['user:1'])
    expect(entityTags({ items: [user, { id: 3, org: { id: 6 } }] }, 'user')).toEqual([
      'user:1',
      'user:3',
    ])
  })

  it('finds entities of several containers in first-seen order', () => {
    const result = { b: [{ id: 2 }], a: { id: 1 }, c: [{ id: 3 }, { id: 2 }] }
    expect(entityTags(result, 'user')).toEqual(['user:2', 'user:1', 'user:3'])
  })

  it('walks Map values, not Map keys', () => {
    const byId = new Map<unknown, unknown>([
      ['a', { id: 1 }],
      ['b', [{ id: 2 }]],
      [{ id: 9 }, 'not an entity: a key'],
    ])
    expect(entityTags(byId, 'user')).toEqual(['user:1', 'user:2'])
    expect(entityTags({ cache: byId }, 'user')).toEqual(['user:1', 'user:2'])
  })

  it('walks Sets', () => {
    expect(entityTags(new Set([{ id: 1 }, { id: 2 }]), 'user')).toEqual(['user:1', 'user:2'])
  })

  it('tags class instances that have the id field', () => {
    class User {
      constructor(readonly id: number) {}
    }
    class WithGetter {
      get id(): string {
        return 'g'
      }
    }
    expect(entityTags([new User(1), new WithGetter()], 'user')).toEqual(['user:1', 'user:g'])
  })

  it('ignores primitives, Dates, typed arrays and class instances without an id', () => {
    class Box {
      readonly content = { id: 1 }
    }
    const ignored = [
      1,
      'x',
      null,
      undefined,
      true,
      5n,
      new Date(),
      new Uint8Array([1]),
      Buffer.from('x'),
      new Box(),
    ]
    expect(entityTags(ignored, 'user')).toEqual([])
    for (const value of ignored) expect(entityTags(value, 'user')).toEqual([])
    expect(entityTags(Object.assign(new Date(0), { id: 1 }), 'user')).toEqual([])
  })

  it('walks objects without a prototype as containers', () => {
    const bare = Object.assign(Object.create(null) as object, { items: [{ id: 1 }] })
    expect(entityTags(bare, 'user')).toEqual(['user:1'])
  })
})

describe('entityTags: ids', () => {
  it('takes string, number and bigint ids', () => {
    expect(entityTags([{ id: 'a' }, { id: 1 }, { id: 2n }], 'user')).toEqual([
      'user:a',
      'user:1',
      'user:2',
    ])
  })

  it('treats 42 and "42" as the same entity', () => {
    expect(entityTags([{ id: 42 }, { id: '42' }, { id: 42n }], 'user')).toEqual(['user:42'])
  })

  it('deduplicates, keeping the first-seen order', () => {
    expect(entityTags([{ id: 2 }, { id: 1 }, { id: 2 }, { id: 1 }], 'user')).toEqual([
      'user:2',
      'user:1',
    ])
  })

  it('a custom idField', () => {
    const spec: EntitySpec = { type: 'account', idField: 'uuid' }
    expect(entityTags([{ uuid: 'a-1' }, { uuid: 'b-2', id: 3 }], spec)).toEqual([
      'account:a-1',
      'account:b-2',
    ])
    // `id` means nothing here: the object is a container, and its lists are walked
    expect(entityTags({ id: 1, accounts: [{ uuid: 'c' }] }, spec)).toEqual(['account:c'])
  })

  it('an object whose id field holds no id is a container', () => {
    for (const id of [null, undefined, '', NaN, Infinity, true, {}, []]) {
      expect(entityTags({ id, items: [{ id: 1 }] }, 'user')).toEqual(['user:1'])
    }
  })
})

describe('entityTags: bounds and cycles', () => {
  it('goes 8 containers deep by default', () => {
    expect(entityTags(nest({ id: 1 }, 8), 'user')).toEqual(['user:1'])
    expect(entityTags(nest({ id: 1 }, 9), 'user')).toEqual([])
  })

  it('maxDepth counts the containers entered', () => {
    expect(entityTags({ id: 1 }, { type: 'user', maxDepth: 0 })).toEqual(['user:1'])
    expect(entityTags([{ id: 1 }], { type: 'user', maxDepth: 0 })).toEqual([])
    expect(entityTags([{ id: 1 }], { type: 'user', maxDepth: 1 })).toEqual(['user:1'])
    expect(entityTags({ items: [{ id: 1 }] }, { type: 'user', maxDepth: 1 })).toEqual([])
    expect(entityTags({ items: [{ id: 1 }] }, { type: 'user', maxDepth: 2 })).toEqual(['user:1'])
    expect(entityTags(nest({ id: 1 }, 20), { type: 'user', maxDepth: 20 })).toEqual(['user:1'])
    expect(entityTags(nest({ id: 1 }, 100), { type: 'user', maxDepth: Infinity })).toEqual([
      'user:1',
    ])
  })

  it('stops quietly at the depth bound, keeping what it found above it', () => {
    const result = { a: { id: 1 }, deep: nest({ id: 2 }, 3), b: [{ id: 3 }] }
    expect(entityTags(result, { type: 'user', maxDepth: 3 })).toEqual(['user:1', 'user:3'])
  })

  it('walks a container again when it shows up higher than where it was cut off', () => {
    const shared = { items: [{ id: 1 }] }
    const result = { deep: nest(shared, 1), shallow: shared }
    // via `deep`, shared's items would be the 4th container: beyond the bound
    expect(entityTags(result, { type: 'user', maxDepth: 3 })).toEqual(['user:1'])
  })

  it('stops quietly at maxEntities, keeping the first ones', () => {
    const list = Array.from({ length: 20 }, (_, i) => ({ id: i }))
    expect(entityTags(list, { type: 'user', maxEntities: 5 })).toEqual([
      'user:0',
      'user:1',
      'user:2',
      'user:3',
      'user:4',
    ])
    expect(entityTags(list, { type: 'user', maxEntities: 0 })).toEqual([])
    expect(entityTags({ a: list, b: list }, { type: 'user', maxEntities: 25 })).toHaveLength(20)
  })

  it('counts distinct entities against maxEntities', () => {
    const list = [{ id: 1 }, { id: 1 }, { id: '1' }, { id: 2 }, { id: 3 }]
    expect(entityTags(list, { type: 'user', maxEntities: 2 })).toEqual(['user:1', 'user:2'])
  })

  it('tags at most 10 000 entities by default', () => {
    const list = Array.from({ length: 10_050 }, (_, i) => ({ id: i }))
    const tags = entityTags({ items: list }, 'user')
    expect(tags).toHaveLength(10_000)
    expect(tags.at(-1)).toBe('user:9999')
  })

  it('does not loop on cycles', () => {
    const page: { items: unknown[]; self?: unknown } = { items: [] }
    page.self = page
    page.items.push(page, { id: 1 }, page.items)
    expect(entityTags(page, { type: 'user', maxDepth: Infinity })).toEqual(['user:1'])
    const map = new Map<string, unknown>()
    map.set('me', map).set('user', { id: 2 })
    expect(entityTags(map, { type: 'user', maxDepth: Infinity })).toEqual(['user:2'])
  })

  it('walks a container shared by several parents once', () => {
    const shared = [{ id: 1 }]
    expect(entityTags({ a: shared, b: shared, c: [shared, shared] }, 'user')).toEqual(['user:1'])
  })
})

describe('entityTags: invalid specs', () => {
  const invalid: [string, unknown][] = [
    ['an empty type', ''],
    ['an empty type in options', { type: '' }],
    ['no type', {}],
    ['a non-string type', { type: 5 }],
    ['a non-string idField', { type: 'user', idField: 5 }],
    ['an empty idField', { type: 'user', idField: '' }],
    ['a negative maxDepth', { type: 'user', maxDepth: -1 }],
    ['a fractional maxDepth', { type: 'user', maxDepth: 1.5 }],
    ['a string maxDepth', { type: 'user', maxDepth: '8' }],
    ['a NaN maxEntities', { type: 'user', maxEntities: NaN }],
    ['a negative maxEntities', { type: 'user', maxEntities: -1 }],
    ['null', null],
    ['a number', 5],
  ]

  it.each(invalid)('rejects %s with E_INVALID_OPTION naming entity', (_label, spec) => {
    let error: unknown
    try {
      entityTags([{ id: 1 }], spec as EntitySpec)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(CacheError)
    expect((error as CacheError).code).toBe('E_INVALID_OPTION')
    expect((error as CacheError).message).toContain('`entity`')
  })

  it('checks the spec even when the result holds nothing', () => {
    expect(() => entityTags(null, { type: '' })).toThrow(CacheError)
  })
})
