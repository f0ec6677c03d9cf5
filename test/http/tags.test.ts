import { describe, expect, it } from 'vitest'

import {
  responseTags,
  shapeOf,
  singularize,
  writeTags,
  type InvalidationMode,
} from '../../src/http/tags.js'
import { segmentsOf } from '../../src/http/url.js'

const shape = (path: string, pattern?: string) => shapeOf(segmentsOf(path), pattern)
const write = (mode: InvalidationMode, method: string, path: string, pattern?: string) =>
  writeTags(mode, method, shape(path, pattern), { people: 'person' })

describe('singularize', () => {
  it.each([
    ['users', 'user'],
    ['items', 'item'],
    ['categories', 'category'],
    ['boxes', 'box'],
    ['matches', 'match'],
    ['addresses', 'address'],
    ['people', 'person'],
    ['status', 'status'],
    ['analysis', 'analysis'],
    ['news', 'new'],
    ['data', 'data'],
    ['s', 's'],
  ])('%s → %s', (plural, singular) => expect(singularize(plural)).toBe(singular))
})

describe('ids in a path', () => {
  it('come from the route pattern when there is one', () => {
    expect(shape('/users/me/posts', '/users/:id/posts').ids).toEqual([false, true, false])
    expect(shape('/users/42', '/users/:slug').ids).toEqual([false, true])
    expect(shape('/v1/users', '/v1/users').ids).toEqual([false, false])
  })

  it('are recognised by their look otherwise (digits, UUID, ObjectId, ULID)', () => {
    expect(shape('/users/42').ids).toEqual([false, true])
    expect(shape('/o/3f2504e0-4f89-11d3-9a0c-0305e82c3301').ids).toEqual([false, true])
    expect(shape('/o/507f1f77bcf86cd799439011').ids).toEqual([false, true])
    expect(shape('/o/01ARZ3NDEKTSV4RRFFQ69G5FAV').ids).toEqual([false, true])
    expect(shape('/v1/users/me').ids).toEqual([false, false, false])
    expect(shape('/files/a/b', '/files/*').ids).toEqual([false, false, false])
  })
})

describe('tags of a response', () => {
  it('are its exact path, every ancestor subtree and the entity it names', () => {
    expect(responseTags(shape('/spaces/1/items/9'), {})).toEqual([
      'http:/spaces/1/items/9',
      'http:/spaces/*',
      'http:/spaces/1/*',
      'http:/spaces/1/items/*',
      'http:/spaces/1/items/9/*',
      'item:9',
    ])
    expect(responseTags(shape('/'), {})).toEqual(['http:/'])
    expect(responseTags(shape('/people/7'), { people: 'person' })).toContain('person:7')
    expect(responseTags(shape('/stats/7'), { stats: false })).not.toContain('stat:7')
  })

  it('decode ids: /users/a%20b names user "a b"', () => {
    expect(responseTags(shape('/users/a%20b', '/users/:id'), {})).toContain('user:a b')
  })
})

describe('tags a write invalidates', () => {
  it("'precise' PATCH of an item: its subtree, its collection, the parent, its entity", () => {
    expect(write('precise', 'PATCH', '/spaces/1/items/9')).toEqual([
      'http:/spaces/1/items/9/*',
      'http:/spaces/1/items',
      'http:/spaces/1',
      'item:9',
    ])
  })

  it('never a tag the sibling /spaces/1/items/8 carries', () => {
    const sibling = responseTags(shape('/spaces/1/items/8'), {})
    for (const method of ['PATCH', 'PUT', 'DELETE', 'POST']) {
      const tags = write('precise', method, '/spaces/1/items/9')
      expect(tags.filter((tag) => sibling.includes(tag))).toEqual([])
    }
  })

  it("'precise' writes to a collection: POST its exact tag, other methods its subtree", () => {
    expect(write('precise', 'POST', '/spaces/1/items')).toEqual([
      'http:/spaces/1/items',
      'http:/spaces/1',
    ])
    expect(write('precise', 'DELETE', '/spaces/1/items')).toEqual([
      'http:/spaces/1/items/*',
      'http:/spaces/1',
    ])
    expect(write('precise', 'POST', '/users')).toEqual(['http:/users', 'http:/'])
    expect(write('precise', 'POST', '/')).toEqual(['http:/'])
  })

  it("'hierarchical' writes clear every ancestor's subtree, as the seed library did", () => {
    expect(write('hierarchical', 'PATCH', '/spaces/123/items/456')).toEqual([
      'http:/spaces/*',
      'http:/spaces/123/*',
      'http:/spaces/123/items/*',
      'http:/spaces/123/items/456/*',
      'item:456',
    ])
  })

  it('use the route pattern to find the entity written', () => {
    expect(write('precise', 'PUT', '/people/ann', '/people/:name')).toContain('person:ann')
    expect(write('precise', 'PUT', '/people/ann')).not.toContain('person:ann')
    expect(write(false, 'PUT', '/people/ann', '/people/:name')).toEqual([])
  })
})
