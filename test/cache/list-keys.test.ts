import { afterEach, describe, expect, it } from 'vitest'

import { type Cache, type CacheOptions, createCache, type ListedKey } from '../../src/index.js'
import { redisStore } from '../../src/redis/store.js'
import { fakeClock } from '../../src/testing/fake-clock.js'
import { redisClient, uniquePrefix } from '../helpers/tiers.js'

const open: Cache[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((cache) => cache.close()))
})

/** A cache on a real Redis under `prefix`: several of them are processes sharing the store. */
function process(prefix: string, options: CacheOptions = {}): Cache {
  const store = redisStore({ client: redisClient(), prefix })
  const cache = createCache({ namespace: 'app', ttl: '1h', store, ...options })
  open.push(cache)
  return cache
}

/** Every key `cache.keys()` lists for `pattern`, page by page. */
async function allKeys(cache: Cache, pattern: string): Promise<Set<string>> {
  const found = new Set<string>()
  let cursor = '0'
  do {
    const page = await cache.keys({ pattern, cursor, count: 1_000 })
    for (const { key } of page.keys) found.add(key)
    cursor = page.cursor
  } while (cursor !== '0')
  return found
}

/** The keys of `keys` another process still reads. */
async function readable(cache: Cache, keys: readonly string[]): Promise<string[]> {
  const left: string[] = []
  for (let i = 0; i < keys.length; i += 200) {
    const part = keys.slice(i, i + 200)
    const values = await Promise.all(part.map((key) => cache.get(key)))
    values.forEach((value, n) => value !== undefined && left.push(part[n] as string))
  }
  return left
}

const range = (n: number, name: string) => Array.from({ length: n }, (_, i) => `${name}:${i}`)

describe('keys() and clear({ pattern }) past maxTags', () => {
  it('clear({ pattern }) removes every matching key, however few tags the process remembers', async () => {
    const prefix = uniquePrefix()
    const admin = process(prefix, { maxTags: 500 })
    const items = range(6_000, 'item')
    const others = range(50, 'other')
    await admin.setMany([...items, ...others].map((key) => ({ key, value: key })))

    expect(await admin.clear({ pattern: 'item:*' })).toBe(items.length)

    const other = process(prefix, { l1: false })
    expect(await readable(other, items)).toEqual([])
    expect(await readable(other, others)).toEqual(others)
    expect(await readable(admin, items)).toEqual([])
  })

  it('keys() lists every live key after the registry forgot the records of their tags', async () => {
    const prefix = uniquePrefix()
    const cache = process(prefix, { maxTags: 500 })
    const items = range(3_000, 'item')
    await cache.setMany(items.map((key) => ({ key, value: key })))
    // More tags than the registry holds: it forgets records and distrusts what is older.
    await cache.invalidate(range(2_000, 'unrelated'))

    expect((await allKeys(cache, 'item:*')).size).toBe(items.length)
    // They are live: another process reads them all.
    expect(await readable(process(prefix, { l1: false }), items)).toHaveLength(items.length)
  })

  it('keys() leaves out deleted and invalidated keys', async () => {
    const prefix = uniquePrefix()
    const cache = process(prefix, { maxTags: 500 })
    await cache.setMany(range(20, 'k').map((key, i) => ({ key, value: i, tags: [`t${i % 2}`] })))
    await cache.delete('k:0')
    await cache.invalidate('t1')
    const listed = await allKeys(cache, '*')
    expect([...listed].sort()).toEqual(
      range(20, 'k')
        .filter((_, i) => i !== 0 && i % 2 === 0)
        .sort(),
    )
  })

  it('keys() on L1 alone skips no key when entries go away between pages', async () => {
    const cache = createCache({ namespace: 'app', ttl: '1h', l1: { maxEntries: 2_000 } })
    open.push(cache)
    const items = range(1_000, 'item')
    for (const key of items) await cache.set(key, key)
    const found = new Set<string>()
    let cursor = '0'
    do {
      const page = await cache.keys({ cursor, count: 100 })
      for (const { key } of page.keys) found.add(key)
      // Listed keys leave (deleted, evicted) while the listing goes on.
      await cache.deleteMany(page.keys.map(({ key }) => key))
      cursor = page.cursor
    } while (cursor !== '0')
    expect(found.size).toBe(items.length)
  })
})

/** The one listed entry of `key` (the test Redis holds other files' keys too). */
async function listed(cache: Cache, key: string): Promise<ListedKey> {
  let cursor = '0'
  do {
    const page = await cache.keys({ pattern: key, cursor, count: 1_000 })
    const found = page.keys.find((listedKey) => listedKey.key === key)
    if (found !== undefined) return found
    cursor = page.cursor
  } while (cursor !== '0')
  throw new Error(`${key} is not listed`)
}

const VALUE = { id: 7, name: 'Lamp', notes: 'x'.repeat(300) }

describe('keys() gives what inspect() gives of each key', () => {
  it('on Redis: the tags callers set, the stored size and the creation time', async () => {
    const prefix = uniquePrefix()
    const clock = fakeClock()
    const writer = process(prefix, { clock })
    const written = clock.now()
    clock.advance(5_000)
    await writer.set('user:7', VALUE, { tags: ['user:7', 'users'] })
    clock.advance(5_000)
    const reader = process(prefix, { l1: false, clock })
    const stored = await reader.inspect('user:7')
    expect(stored?.tier).toBe('l2')
    // The entry carries implicit tags: the listing leaves them out.
    expect(stored?.tags.some((tag) => tag.startsWith('@'))).toBe(true)

    // The writer holds it in L1 too; its listing reads the store all the same.
    for (const cache of [writer, reader]) {
      const entry = await listed(cache, 'user:7')
      expect(entry).toMatchObject({ key: 'user:7', namespace: 'app' })
      expect([...entry.tags].sort()).toEqual(['user:7', 'users'])
      expect(entry.size).toBe(stored?.size)
      expect(entry.size).toBeGreaterThan(JSON.stringify(VALUE).length)
      expect(entry.createdAt).toBe(stored?.createdAt)
      expect(entry.createdAt).toBe(written + 5_000)
    }
    // A child's key, and a key without tags of its own.
    await writer.namespace('users').set('42', 'u')
    expect(await listed(writer, '42')).toMatchObject({ namespace: 'app:users', tags: [] })
  })

  it('on L1 alone: the tags callers set, the L1 size estimate and the creation time', async () => {
    const clock = fakeClock()
    const cache = createCache({ namespace: 'app', ttl: '1h', clock })
    open.push(cache)
    const written = clock.now()
    await cache.set('user:7', VALUE, { tags: ['user:7', 'users'] })
    await cache.namespace('users').set('42', 'u')
    clock.advance(5_000)
    const held = await cache.inspect('user:7')
    expect(held?.tags.some((tag) => tag.startsWith('@'))).toBe(true)

    const entry = await listed(cache, 'user:7')
    expect([...entry.tags].sort()).toEqual(['user:7', 'users'])
    expect(entry.size).toBe(held?.size)
    expect(entry.size).toBeGreaterThan(300)
    expect(entry.createdAt).toBe(held?.createdAt)
    expect(entry.createdAt).toBe(written)
    expect(await listed(cache, '42')).toMatchObject({ namespace: 'app:users', tags: [] })
  })
})
