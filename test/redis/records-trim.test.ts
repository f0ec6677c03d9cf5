import { Redis } from 'ioredis'
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest'

import type { Cache } from '../../src/cache/cache.js'
import { createCache } from '../../src/index.js'
import { TRIM, TRIM_BUDGET } from '../../src/redis/records-trim.js'
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
/** One trim call as hard as it gets: a window of 0 ms, the floor rises to the sequence now. */
const trimNow = async (prefix: string, budget = 100_000) => {
  const [removed, floor] = (await redis.eval(
    TRIM,
    1,
    `{${prefix}}:seq`,
    prefix,
    '0',
    '0',
    String(budget),
  )) as [number, string]
  return { removed, floor: Number(floor) }
}
/** The fields of a hash but its marker `''`. */
const fieldsOf = async (key: string) =>
  Object.entries(await redis.hgetall(key)).filter(([field]) => field !== '')

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

  it('forgets the known key tags marked below the mark; one at it, and the marker, stay', async () => {
    const prefix = uniquePrefix()
    const { cache } = cacheOn(prefix, '1s')
    expect(await cache.set('a', 1)).toBe(true) // the state, and its markers
    const seq = await seqOf(prefix)
    const known = `{${prefix}}:k`
    await redis.hsetnx(known, '', String(seq))
    await redis.hset(known, {
      '@key:cg::older': '1',
      '@key:cg::old': String(seq - 1),
      // Marked at the sequence the mark is made at: maybe after the mark (a load marks with the
      // sequence as it is), by an entry that may still live.
      '@key:cg::at': String(seq),
      '@key:cg::newer': String(seq + 10),
    })
    const [hard, soft, marks] = await Promise.all([
      fieldsOf(`{${prefix}}:h`),
      fieldsOf(`{${prefix}}:s`),
      fieldsOf(known),
    ])
    // Every record goes (all at or below the floor), and the marks below it.
    const gone = hard.length + soft.length + marks.filter(([, v]) => Number(v) < seq).length
    const { removed, floor } = await trimNow(prefix)
    expect(floor).toBe(seq)
    expect(await floorOf(prefix)).toBe(seq)
    expect(removed).toBe(gone)
    expect(gone).toBeGreaterThanOrEqual(3) // the record of `a`, and the two old marks at least
    const after = await redis.hgetall(known)
    expect(after['@key:cg::older']).toBeUndefined()
    expect(after['@key:cg::old']).toBeUndefined()
    expect(after['@key:cg::at']).toBe(String(seq))
    expect(after['@key:cg::newer']).toBe(String(seq + 10))
    expect(after['']).toBeDefined()
    expect(await records(prefix)).toBe(1) // the marker alone
    // The state is intact: the store goes on serving and writing.
    expect(await cache.get('a')).toBe(1)
    expect(await cache.set('b', 2)).toBe(true)
    expect(await cache.get('b')).toBe(2)
  })

  it('shares one budget across the hashes, and resumes in {P}:k where the last call stopped', async () => {
    const prefix = uniquePrefix()
    const { cache } = cacheOn(prefix, '1s')
    expect(await cache.set('a', 1)).toBe(true)
    const known = `{${prefix}}:k`
    await redis.hsetnx(known, '', String(await seqOf(prefix)))
    const many = 2_500
    await redis.hset(
      known,
      Object.fromEntries(Array.from({ length: many }, (_, i) => [`@key:cg::old:${i}`, '1'])),
    )
    const old = async () => (await fieldsOf(known)).filter(([f]) => f.startsWith('@key:cg::old:'))
    const trimKeys = async () =>
      (
        await Promise.all(['h', 's', 'k'].map((name) => redis.exists(`{${prefix}}:trim:${name}`)))
      ).join('')
    // The first call goes over {P}:h and {P}:s, then spends the rest of its budget in {P}:k.
    const first = await trimNow(prefix, TRIM_BUDGET)
    const left = (await old()).length
    expect(left).toBeGreaterThan(0)
    expect(left).toBeLessThan(many)
    expect(first.removed).toBeLessThan(TRIM_BUDGET + 1_000) // one page past the budget at most
    expect(await trimKeys()).toBe('001') // in {P}:k: its cursor kept, the others' none
    expect(await redis.get(`{${prefix}}:trim:k`)).not.toBe('0')
    // The next calls go on in {P}:k from there: every old mark is gone within the budget of
    // three calls.
    let calls = 1
    while ((await old()).length > 0 && calls < 10) {
      const { removed } = await trimNow(prefix, TRIM_BUDGET)
      expect(removed).toBeLessThan(TRIM_BUDGET + 1_000)
      calls++
    }
    expect(await old()).toEqual([])
    expect(calls).toBeLessThanOrEqual(4)
    // Wherever the pass is now, it is in one hash only.
    expect(['100', '010', '001']).toContain(await trimKeys())
    expect(await redis.hexists(known, '')).toBe(1)
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
