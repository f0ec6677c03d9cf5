import { describe, expect, it } from 'vitest'

import { createAdminHandler } from '../../../src/http/admin/index.js'
import { redisStore } from '../../../src/redis/store.js'
import { MAX_PATTERN_BYTES } from '../../../src/util/glob.js'
import { redisClient, uniquePrefix } from '../../helpers/tiers.js'
import { ADMIN_TIERS, jsonOf, makeCache, request } from './admin-fixtures.js'

interface KeysPage {
  keys: { key: string }[]
  cursor: number | string
}

describe.each(ADMIN_TIERS)('admin patterns (%s)', (_name, tiers) => {
  it('reads a reversed range as Redis does (200), never a 5xx', async () => {
    const cache = makeCache(tiers())
    await cache.setMany(['m', 'M', 'mm'].map((key) => ({ key, value: key })))
    const handler = createAdminHandler({ cache, insecure: true })
    const found: string[] = []
    let cursor: number | string = 0
    do {
      const response = await handler(
        request('GET', `/api/cache/keys?pattern=${encodeURIComponent('[z-a]')}&cursor=${cursor}`),
      )
      expect(response?.status).toBe(200)
      const page = await jsonOf<KeysPage>(response)
      found.push(...page.keys.map(({ key }) => key))
      cursor = page.cursor
    } while (cursor !== 0)
    expect(found).toEqual(['m'])
  })

  it('answers 400 E_INVALID_PATTERN to a pattern that cannot be one, and clears nothing', async () => {
    const cache = makeCache(tiers())
    await cache.set('k', 1)
    const handler = createAdminHandler({ cache, insecure: true })
    const long = encodeURIComponent('*'.repeat(MAX_PATTERN_BYTES + 1))
    for (const [method, path] of [
      ['GET', `/api/cache/keys?pattern=${long}`],
      ['POST', `/api/cache/clear?pattern=${long}`],
    ] as const) {
      const response = await handler(request(method, path))
      expect(response?.status).toBe(400)
      expect(await jsonOf(response)).toMatchObject({ code: 'E_INVALID_PATTERN' })
    }
    expect(await cache.get('k')).toBe(1)
  })
})

describe('POST /clear?pattern= past maxTags', () => {
  it('answers `cleared` only once every matching key is gone for every process', async () => {
    const prefix = uniquePrefix()
    const store = () => redisStore({ client: redisClient(), prefix })
    const cache = makeCache({ store: store(), maxTags: 300 })
    const keys = Array.from({ length: 3_000 }, (_, i) => `p:${i}`)
    await cache.setMany(keys.map((key) => ({ key, value: key })))
    const handler = createAdminHandler({ cache, insecure: true })

    const response = await handler(request('POST', '/api/cache/clear?pattern=p:*'))
    expect(await jsonOf(response)).toMatchObject({ status: 'cleared', cleared: keys.length })

    const other = makeCache({ store: store(), l1: false })
    const values = await Promise.all(keys.map((key) => other.get(key)))
    expect(values.filter((value) => value !== undefined)).toEqual([])
  })
})
