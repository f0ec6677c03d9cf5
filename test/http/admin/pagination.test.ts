import { describe, expect, it } from 'vitest'

import { createAdminHandler } from '../../../src/http/admin/index.js'
import { ADMIN_TIERS, jsonOf, makeCache, request } from './admin-fixtures.js'

interface KeysPage {
  keys: { key: string; ttl: number; namespace: string }[]
  cursor: number | string
}

describe.each(ADMIN_TIERS)('GET /keys pagination (%s)', (_name, tiers) => {
  it('walks more than one page with the cursor and finds every key once', async () => {
    const cache = makeCache(tiers())
    const expected = Array.from({ length: 250 }, (_, i) => `k:${i}`)
    await cache.setMany(expected.map((key) => ({ key, value: key })))
    await cache.namespace('child').set('c', 1)
    const handler = createAdminHandler({ cache, insecure: true })

    const found: string[] = []
    let cursor: number | string = 0
    let pages = 0
    do {
      const page: KeysPage = await jsonOf<KeysPage>(
        await handler(request('GET', `/api/cache/keys?pattern=k:*&count=50&cursor=${cursor}`)),
      )
      expect(page.keys.length).toBeLessThanOrEqual(50)
      found.push(...page.keys.map(({ key }) => key))
      cursor = page.cursor
      pages++
    } while (cursor !== 0 && pages < 10_000)
    expect(cursor).toBe(0)
    expect(pages).toBeGreaterThan(1)
    // SCAN may repeat a key across pages; it never skips one that lived through the scan.
    expect([...new Set(found)].sort()).toEqual(expected.sort())
  })
})

describe('GET /keys count', () => {
  it('is clamped to 1..1000 (a page size is a hint, not an error)', async () => {
    const cache = makeCache({ l1: { maxEntries: 5_000 } })
    await cache.setMany(Array.from({ length: 1_500 }, (_, i) => ({ key: `k${i}`, value: i })))
    const handler = createAdminHandler({ cache, insecure: true })
    const page = async (count: string) =>
      jsonOf<KeysPage>(await handler(request('GET', `/api/cache/keys?count=${count}`)))

    // The L1 listing looks at exactly `count` entries per page.
    for (const [count, size] of [
      ['0', 1],
      ['-5', 1],
      ['2.7', 2],
      ['5000', 1_000],
      ['1e9', 1_000],
    ] as const) {
      const listed = await page(count)
      expect(listed.keys, `count=${count}`).toHaveLength(size)
      expect(listed.cursor).not.toBe(0)
    }
    expect((await page('')).keys).toHaveLength(100)
  })
})
