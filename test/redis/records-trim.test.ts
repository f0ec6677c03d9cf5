import { Redis } from 'ioredis'
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest'

import type { Cache } from '../../src/cache/cache.js'
import { createCache } from '../../src/index.js'
import { redisStore, type RedisStore } from '../../src/redis/store.js'
import type { Duration } from '../../src/util/duration.js'
import { uniquePrefix } from '../helpers/tiers.js'

/**
 * `keepRecords`: records older than the window are deleted once the floor is above them, so a
 * prefix that writes many distinct keys stops growing — and nothing they refused comes back.
 */
const redis = new Redis(inject('redisUrl'))
const open: Cache[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((cache) => cache.close()))
})
afterAll(() => redis.quit())

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function cacheOn(prefix: string, keepRecords: Duration, maxLifetime: Duration = '900ms') {
  const store = redisStore({ url: inject('redisUrl'), prefix, keepRecords }) as RedisStore
  const cache = createCache({ store, l1: false, maxLifetime, ttl: maxLifetime })
  open.push(cache)
  return { cache, store }
}

const records = (prefix: string) => redis.hlen(`{${prefix}}:h`)
const floorOf = async (prefix: string) => Number(await redis.get(`{${prefix}}:floor`))
const seqOf = async (prefix: string) => Number(await redis.get(`{${prefix}}:seq`))

describe('records kept (keepRecords)', () => {
  it('deletes the records below a mark keepRecords old and raises the floor to it', async () => {
    const prefix = uniquePrefix()
    const { cache, store } = cacheOn(prefix, '1s')
    for (let i = 0; i < 300; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => cache.set(`user:${i + j}`, i + j)))
    }
    const written = await seqOf(prefix)
    expect(await records(prefix)).toBeGreaterThan(300) // a record per key, and the marker
    // The writes may have made marks of their own, and the records above the newest expired
    // mark stay. Trimming on with no write, a mark at the last write expires in about a second.
    const deadline = Date.now() + 10_000
    let floor = 0
    while (floor < written && Date.now() < deadline) {
      await sleep(200)
      ;({ floor } = await store.trimRecords())
    }
    expect(floor).toBeGreaterThanOrEqual(written)
    expect(await floorOf(prefix)).toBe(floor)
    expect(await records(prefix)).toBe(1) // the marker alone
    // The sequence goes on above the floor, and the store still serves and records.
    expect(await cache.set('after', 1)).toBe(true)
    expect(await cache.get('after')).toBe(1)
    expect(await records(prefix)).toBe(2)
  })

  it('nothing a trimmed record refused comes back; what is newer than the floor stays valid', async () => {
    const prefix = uniquePrefix()
    // A process whose entries outlive the window (its store keeps every record) ...
    const store = redisStore({ url: inject('redisUrl'), prefix, keepRecords: Infinity })
    const cache = createCache({ store, l1: false, maxLifetime: '1h', ttl: '1h' })
    open.push(cache)
    const built = () =>
      cache.getOrSet('team', async () => `${await cache.getOrSet('k', () => 'k1')}!`)
    expect(await built()).toBe('k1!')
    expect(await cache.set('k', 'k2')).toBe(true) // supersedes k: `team` was built from k1
    // Not read before the trim: the stored entry stays as it was written.
    expect(await redis.exists(`${prefix}:e:cg::team`)).toBe(1)
    expect(await redis.hget(`{${prefix}}:h`, '@key:cg::k')).not.toBeNull()
    // ... and one that trims with a short window.
    const trimmer = cacheOn(prefix, '1s').store
    const deadline = Date.now() + 10_000
    do {
      await trimmer.trimRecords() // the first call marks the sequence as it is
      await sleep(200)
    } while ((await redis.hget(`{${prefix}}:h`, '@key:cg::k')) !== null && Date.now() < deadline)
    expect(await redis.hget(`{${prefix}}:h`, '@key:cg::k')).toBeNull()
    // The record is gone, the floor above it: `team` is still refused, never served stale —
    // here, and by a process that only knows what the store says.
    const other = createCache({
      store: redisStore({ url: inject('redisUrl'), prefix, keepRecords: Infinity }),
      l1: false,
      maxLifetime: '1h',
    })
    open.push(other)
    expect(await other.get('team')).toBeUndefined()
    expect(await cache.get('team')).toBeUndefined()
    // `k2` is as of the last step before the mark, the floor itself: still valid.
    expect(await cache.get('k')).toBe('k2')
    expect(await cache.set('fresh', 1)).toBe(true)
    expect(await cache.get('fresh')).toBe(1)
    expect(await built()).toBe('k2!')
    expect(await cache.get('team')).toBe('k2!')
  })

  it('a store that writes trims by itself', async () => {
    const prefix = uniquePrefix()
    const { cache } = cacheOn(prefix, '1s')
    await Promise.all(Array.from({ length: 200 }, (_, i) => cache.set(`old:${i}`, i)))
    const old = async () => {
      let [cursor, found] = ['0', 0]
      do {
        const [next, page] = await redis.hscan(
          `{${prefix}}:h`,
          cursor,
          'MATCH',
          '@key:cg::old:*',
          'COUNT',
          1000,
        )
        ;[cursor, found] = [next, found + page.length / 2]
      } while (cursor !== '0')
      return found
    }
    expect(await old()).toBe(200)
    // Writing on in bursts: a trim comes after enough was sent, at most every tenth of the window.
    const deadline = Date.now() + 15_000
    let n = 0
    while ((await old()) > 0 && Date.now() < deadline) {
      await Promise.all(Array.from({ length: 100 }, () => cache.set(`new:${n++}`, n)))
      await sleep(200)
    }
    expect(await old()).toBe(0)
  })

  it('wrong windows fail at creation, naming the option', () => {
    const url = inject('redisUrl')
    expect(() => redisStore({ url, keepRecords: '10ms' })).toThrow(/keepRecords/)
    expect(() => redisStore({ url, keepRecords: 'soon' as never })).toThrow(/keepRecords/)
    const store = redisStore({ url, prefix: uniquePrefix(), keepRecords: '1h' })
    expect(() => createCache({ store, maxLifetime: '2h' })).toThrow(/maxLifetime/)
    expect(() => createCache({ store, maxLifetime: '1h', grace: '1m' })).toThrow(/maxLifetime/)
    const fits = createCache({ store, maxLifetime: '59m', grace: '1m' })
    open.push(fits)
  })
})
