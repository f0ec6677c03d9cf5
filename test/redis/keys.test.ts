import { afterAll, describe, expect, it } from 'vitest'

import { allKeyPatterns, entryKey, leaseKey, slotKeys } from '../../src/redis/keys.js'
import { redisStore } from '../../src/redis/store.js'
import { redisClient, uniquePrefix } from '../helpers/tiers.js'
import { unlinkPrefix } from '../helpers/unlink-prefix.js'

const prefixes: string[] = []
afterAll(async () => {
  for (const prefix of prefixes) await unlinkPrefix(redisClient(), prefix)
})

describe('Redis key names (keys.ts)', () => {
  it('name exactly the keys the scripts write, and the patterns find them all', async () => {
    const prefix = uniquePrefix()
    prefixes.push(prefix)
    const store = redisStore({ client: redisClient(), prefix })
    await store.invalidate(['t'])
    await store.write([{ key: 'k', payload: 'p', tags: ['t'], ttlMs: 60_000 }])
    expect(await store.acquireLease?.('k', 'token', 60_000)).toBe(true)
    const keys = slotKeys(prefix)
    const client = redisClient()
    const state = [
      keys.seq,
      keys.epoch,
      keys.floor,
      keys.watermark,
      keys.hard,
      keys.soft,
      keys.known,
      keys.published,
      keys.log,
    ]
    for (const name of state) {
      expect(await client.exists(name), name).toBe(1)
    }
    expect(await client.get(entryKey(prefix, 'k'))).toContain('p')
    expect(await client.get(leaseKey(prefix, 'k'))).toBe('token')
    const found = new Set<string>()
    for (const pattern of allKeyPatterns(prefix)) {
      let cursor = '0'
      do {
        const [next, names] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 100)
        for (const name of names) found.add(name)
        cursor = next
      } while (cursor !== '0')
    }
    expect([...found].sort()).toEqual(
      state.concat(entryKey(prefix, 'k'), leaseKey(prefix, 'k')).sort(),
    )
  })
})
