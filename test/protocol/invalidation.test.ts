import { describe, expect, it } from 'vitest'

import { entityTag } from '../../src/index.js'
import { invalidationBody, MAX_ITEMS, parseInvalidation } from '../../src/protocol/invalidation.js'

const parse = (body: unknown) => parseInvalidation(body, entityTag)

describe('the invalidation body', () => {
  it("reads the seed's body, tags, keys, a combination and a list, in the body's order", () => {
    expect(parse({ entity_id: 123, entity_type: 'product' })).toEqual({
      ok: true,
      request: { tags: ['product:123'], keys: [], stale: false, ack: false },
    })
    expect(parse({ tags: 'a' })).toMatchObject({ request: { tags: ['a'] } })
    expect(parse({ tags: ['a'], keys: ['k'], entity_id: 1n, entity_type: 'u' })).toMatchObject({
      request: { tags: ['a', 'u:1'], keys: ['k'] },
    })
    expect(
      parse([{ entity_id: 7, entity_type: 'user' }, { tags: ['t2', 'user:7'] }, { keys: ['k'] }]),
    ).toMatchObject({ request: { tags: ['user:7', 't2'], keys: ['k'] } })
    expect(parse({ tags: ['a'], stale: true, ack: true })).toMatchObject({
      request: { stale: true, ack: true },
    })
  })

  it('refuses anything else with a message naming the item', () => {
    const refused = (body: unknown) => {
      const parsed = parse(body)
      expect(parsed.ok, JSON.stringify(String(body))).toBe(false)
      return parsed.ok ? '' : parsed.error
    }
    expect(refused([])).toMatch(/empty/)
    expect(refused(Array.from({ length: MAX_ITEMS + 1 }, () => ({ tags: ['a'] })))).toMatch(
      /at most/,
    )
    expect(refused('x')).toMatch(/JSON object/)
    expect(refused([{ tags: ['a'] }, 3])).toMatch(/item 1/)
    expect(refused({})).toMatch(/give/)
    expect(refused({ tags: [''] })).toMatch(/non-empty strings/)
    expect(refused({ keys: 'k' })).toMatch(/non-empty strings/)
    expect(refused({ entity_id: 1 })).toMatch(/entity type/)
    expect(refused({ entity_type: 'p', entity_id: {} })).toMatch(/entity id/)
    expect(refused({ entity_type: 'p', entity_id: '' })).toMatch(/entity id/)
    expect(refused({ tags: ['a'], stale: 'yes' })).toMatch(/`stale` must be a boolean/)
    expect(refused([{ tags: ['a'], ack: true }])).toMatch(/whole request/)
    expect(refused({ keys: ['k'], ack: true })).toMatch(/not `keys`/)
  })

  it("writes one entity as the seed's body, anything more as a list the reader reads back", () => {
    expect(invalidationBody([{ entityType: 'product', entityId: 123 }])).toEqual({
      entity_id: 123,
      entity_type: 'product',
    })
    expect(invalidationBody([{ tag: 'a' }, { tag: 'b' }])).toEqual({ tags: ['a', 'b'] })
    const body = invalidationBody([{ entityType: 'u', entityId: 1 }, { tag: 'a' }], ['k'])
    expect(body).toEqual([{ entity_id: 1, entity_type: 'u' }, { tags: ['a'] }, { keys: ['k'] }])
    expect(parse(body)).toMatchObject({ request: { tags: ['u:1', 'a'], keys: ['k'] } })
  })
})
