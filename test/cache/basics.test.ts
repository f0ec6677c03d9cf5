import { describe, expect, it } from 'vitest'

import {
  collectionTag,
  createCache,
  entityTag,
  entityTags,
  isCacheError,
  memoryStore,
  resultEntityTags,
} from '../../src/index.js'
import { FakeClock } from '../../src/testing/index.js'

import { ALL_TIERS } from '../helpers/tiers.js'

describe.each(ALL_TIERS)('cache basics (%s)', (_name, tiers) => {
  const make = (clock = new FakeClock()) => ({
    cache: createCache({ ...tiers(), clock, namespace: 'app' }),
    clock,
  })

  it('get/set/has/delete', async () => {
    const { cache } = make()
    expect(await cache.get('a')).toBeUndefined()
    expect(await cache.set('a', { n: 1 })).toBe(true)
    expect(await cache.get('a')).toEqual({ n: 1 })
    expect(await cache.has('a')).toBe(true)
    await cache.delete('a')
    expect(await cache.get('a')).toBeUndefined()
    expect(await cache.has('a')).toBe(false)
  })

  it('null is a value; undefined cannot be set', async () => {
    const { cache } = make()
    await cache.set('n', null)
    expect(await cache.has('n')).toBe(true)
    expect(await cache.get('n')).toBeNull()
    await expect(cache.set('u', undefined)).rejects.toMatchObject({ code: 'E_INVALID_VALUE' })
  })

  it('strings stay strings', async () => {
    const { cache } = make()
    await cache.set('s', '42')
    expect(await cache.get('s')).toBe('42')
  })

  it('entries expire after their ttl (get never returns an expired value)', async () => {
    const { cache, clock } = make()
    await cache.set('t', 1, { ttl: '10s' })
    clock.advance(9_999)
    expect(await cache.get('t')).toBe(1)
    clock.advance(1)
    expect(await cache.get('t')).toBeUndefined()
  })

  it('getMany / setMany / deleteMany', async () => {
    const { cache } = make()
    expect(
      await cache.setMany([
        { key: 'a', value: 1 },
        { key: 'b', value: 2, tags: ['t'] },
      ]),
    ).toEqual([true, true])
    expect(await cache.getMany(['a', 'b', 'c'])).toEqual([1, 2, undefined])
    await cache.deleteMany(['a', 'b'])
    expect(await cache.getMany(['a', 'b'])).toEqual([undefined, undefined])
  })

  it('invalidate drops exactly the entries depending on a tag', async () => {
    const { cache } = make()
    await cache.set('u1', 'one', { tags: ['user:1'] })
    await cache.set('u2', 'two', { tags: ['user:2'] })
    await cache.set('both', 'both', { tags: ['user:1', 'user:2'] })
    const result = await cache.invalidate(['user:1'])
    expect(result.tags).toEqual(['user:1'])
    expect(typeof result.seq).toBe('number')
    expect(await cache.getMany(['u1', 'u2', 'both'])).toEqual([undefined, 'two', undefined])
  })

  it('invalidateEntity uses entityTag; 42 and "42" are one entity', async () => {
    const { cache } = make()
    expect(entityTag('user', 42)).toBe('user:42')
    await cache.set('u', 'x', { tags: [entityTag('user', '42')] })
    await cache.invalidateEntity('user', 42)
    expect(await cache.get('u')).toBeUndefined()
  })

  it('namespaces share tag space; clear() of a child clears only the child', async () => {
    const { cache } = make()
    const users = cache.namespace('users')
    const posts = cache.namespace('posts')
    await cache.set('root', 1, { tags: ['t'] })
    await users.set('a', 2, { tags: ['t'] })
    await posts.set('a', 3)
    expect(await users.get('a')).toBe(2)
    expect(await posts.get('a')).toBe(3)
    await users.clear()
    expect(await users.get('a')).toBeUndefined()
    expect(await posts.get('a')).toBe(3)
    expect(await cache.get('root')).toBe(1)
    await users.set('a', 4, { tags: ['t'] })
    await cache.invalidate('t') // reaches the child
    expect(await users.get('a')).toBeUndefined()
    await cache.clear() // the root's clear reaches every child
    expect(await posts.get('a')).toBeUndefined()
  })

  it('keys of a child cannot collide with keys of its parent', async () => {
    const { cache } = make()
    await cache.set('users:a', 'parent')
    await cache.set('users::a', 'parent too')
    await cache.namespace('users').set('a', 'child')
    expect(await cache.get('users:a')).toBe('parent')
    expect(await cache.get('users::a')).toBe('parent too')
    expect(await cache.namespace('users').get('a')).toBe('child')
    // A leading NUL is reserved (children's L1 keys use it), so no crafted key reaches a child.
    await expect(cache.get('\0app:users\0a')).rejects.toMatchObject({ code: 'E_INVALID_KEY' })
  })

  it('inspect shows tags, ttl and status; dependents lists L1 keys of a tag', async () => {
    const { cache } = make()
    await cache.set('a', { x: 1 }, { tags: ['user:1'], ttl: '1m' })
    const info = await cache.inspect('a')
    expect(info?.tags).toContain('user:1')
    expect(info?.ttl).toBe(60_000)
    expect(info?.status).toBe('valid')
    expect(await cache.inspect('missing')).toBeUndefined()
    if (tiers().l1 !== false) expect(cache.dependents('user:1')).toEqual(['a'])
  })

  it('keys() lists this namespace and its children page by page; clear({ pattern }) removes matches', async () => {
    const { cache } = make()
    const users = cache.namespace('users')
    await cache.setMany(['a:1', 'a:2', 'b:1'].map((key) => ({ key, value: key })))
    await users.set('a:9', 'child')
    const listed: string[] = []
    let cursor = '0'
    let pages = 0
    do {
      const page = await cache.keys({ pattern: 'a:*', cursor, count: 500 })
      for (const { key, namespace, ttl } of page.keys) {
        expect(ttl).toBeGreaterThan(0)
        listed.push(`${namespace}/${key}`)
      }
      cursor = page.cursor
      pages++
    } while (cursor !== '0' && pages < 100_000)
    expect([...new Set(listed)].sort()).toEqual(['app/a:1', 'app/a:2', 'app:users/a:9'])
    const all: string[] = []
    for (let next = '0', first = true; first || next !== '0'; first = false) {
      const page = await users.keys({ cursor: next, count: 500 })
      all.push(...page.keys.map((k) => k.key))
      next = page.cursor
    }
    expect(all).toEqual(['a:9'])
    expect(await cache.clear({ pattern: 'a:*' })).toBe(3)
    expect(await cache.getMany(['a:1', 'a:2', 'b:1'])).toEqual([undefined, undefined, 'b:1'])
    expect(await users.get('a:9')).toBeUndefined()
  })

  it('rejects bad keys and reserved tags', async () => {
    const { cache } = make()
    await expect(cache.get('')).rejects.toMatchObject({ code: 'E_INVALID_KEY' })
    await expect(cache.set('k', 1, { tags: ['@key:x'] })).rejects.toMatchObject({
      code: 'E_INVALID_TAG',
    })
    await expect(cache.invalidate([''])).rejects.toMatchObject({ code: 'E_INVALID_TAG' })
  })
})

describe('stats and events', () => {
  it('counts hits, misses, sets, deletes, invalidations; emits typed events', async () => {
    const cache = createCache()
    const seen: string[] = []
    const onHit = (e: { key: string }) => seen.push(`hit ${e.key}`)
    cache.on('hit', onHit)
    cache.on('miss', (e) => seen.push(`miss ${e.key}`))
    cache.on('invalidate', (e) => seen.push(`invalidate ${e.tags.join()}`))
    await cache.getOrSet('a', () => 1)
    await cache.getOrSet('a', () => 1)
    await cache.invalidate('t')
    cache.off('hit', onHit)
    await cache.get('a')
    await cache.delete('a')
    // delete is an invalidation of the key's implicit tag
    expect(seen).toEqual(['miss cg::a', 'hit cg::a', 'invalidate t', 'invalidate @key:cg::a'])
    const stats = cache.stats()
    expect(stats).toMatchObject({
      hits: 2,
      misses: 1,
      sets: 1,
      deletes: 1,
      invalidations: 2,
      loads: 1,
    })
    expect(stats.hitRate).toBeCloseTo(2 / 3)
  })

  it('reportError reports a failure of a layer built on the cache as its error event', async () => {
    const cache = createCache({ namespace: 'app' })
    const events: unknown[] = []
    cache.on('error', (event) => events.push(event))
    const failure = new Error('purge failed')
    cache.namespace('pages').reportError(failure, 'cdn:purge')
    cache.reportError(failure, 'job', 'k')
    expect(events).toEqual([
      { error: failure, operation: 'cdn:purge' },
      { error: failure, operation: 'job', key: 'k' },
    ])
    await cache.close()
    expect(() => cache.reportError(failure, 'late')).not.toThrow()
  })

  it('the entity tags of a result are public: entityTags, and resultEntityTags with the collection', () => {
    const page = { items: [{ id: 7 }, { id: 8 }], next: null }
    expect(entityTags(page, 'user')).toEqual([entityTag('user', 7), entityTag('user', 8)])
    expect(resultEntityTags(page, 'user')).toEqual([
      entityTag('user', 7),
      entityTag('user', 8),
      collectionTag('user'),
    ])
    expect(resultEntityTags({ id: 7 }, 'user')).toEqual([entityTag('user', 7)])
  })

  it('a throwing listener does not break the operation', async () => {
    const cache = createCache()
    const errors: unknown[] = []
    cache.on('set', () => {
      throw new Error('listener bug')
    })
    cache.on('error', (e) => errors.push(e.error))
    expect(await cache.set('a', 1)).toBe(true)
    expect(errors).toHaveLength(1)
  })
})

describe('disabled mode', () => {
  it('reads go to the loader, invalidations still reach the store', async () => {
    const store = memoryStore()
    const writer = createCache({ store, enabled: false })
    const reader = createCache({ store })
    await reader.set('k', 'old', { tags: ['t'] })
    let runs = 0
    expect(await writer.getOrSet('k', () => ++runs)).toBe(1)
    expect(await writer.getOrSet('k', () => ++runs)).toBe(2)
    expect(await writer.get('k')).toBeUndefined()
    await writer.invalidate('t')
    const read = await store.read(['cg::k'])
    expect(read.tagSeqs.t?.hard).toBeGreaterThan(read.entries[0]?.start ?? Infinity)
  })
})

describe('values', () => {
  it('the L1 keeps references; l1.clone hands out copies', async () => {
    const shared = createCache()
    const value = { list: [1] }
    await shared.set('v', value)
    expect(await shared.get('v')).toBe(value)
    const cloning = createCache({ l1: { clone: true } })
    await cloning.set('v', value)
    const copy = await cloning.get<{ list: number[] }>('v')
    expect(copy).toEqual(value)
    expect(copy).not.toBe(value)
    copy!.list.push(2)
    expect(await cloning.get('v')).toEqual({ list: [1] })
  })

  it('with l1.clone, a value read from the shared tier is handed out as a copy of what L1 keeps', async () => {
    const store = memoryStore()
    const writer = createCache({ store })
    const reader = createCache({ store, l1: { clone: true } })
    for (const key of ['get', 'many', 'getOrSet']) await writer.set(key, { list: [1] })
    // Each first read is a shared-tier hit that fills the reader's L1; mutating what it handed
    // out must not reach the L1 copy the next read is served from.
    const fromGet = await reader.get<{ list: number[] }>('get')
    const [fromMany] = await reader.getMany<{ list: number[] }>(['many'])
    const fromLoad = await reader.getOrSet<{ list: number[] }>('getOrSet', () => ({ list: [9] }))
    for (const value of [fromGet, fromMany, fromLoad]) value!.list.push(2)
    expect(await reader.get('get')).toEqual({ list: [1] })
    expect(await reader.get('many')).toEqual({ list: [1] })
    expect(await reader.get('getOrSet')).toEqual({ list: [1] })
    expect(reader.stats().l2.hits).toBe(3)
  })

  it('rich values round-trip through the shared tier', async () => {
    const store = memoryStore()
    const a = createCache({ store })
    const b = createCache({ store })
    const value = {
      when: new Date(1_700_000_000_000),
      map: new Map<unknown, unknown>([['k', new Set([1, 2])]]),
      big: 12345678901234567890n,
      bytes: new Uint8Array([1, 2, 3]),
      floats: new Float64Array([1.5, -2]),
      nothing: undefined,
      list: [1, undefined, null],
      nan: NaN,
      $cg: 'not a marker',
      text: '42',
    }
    await a.set('rich', value)
    expect(await b.get('rich')).toStrictEqual(value)
  })

  it('a value that cannot be serialized gives a clear error and affects nothing else', async () => {
    const cache = createCache({ store: memoryStore() })
    await cache.set('ok', 1)
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    const error: unknown = await cache.set('bad', cyclic).catch((e: unknown) => e)
    expect(isCacheError(error, 'E_SERIALIZE')).toBe(true)
    expect(await cache.get('ok')).toBe(1)
    expect(await cache.get('bad')).toBeUndefined()
    // Through getOrSet the caller still gets its value; the failure is an `error` event.
    const errors: unknown[] = []
    cache.on('error', (e) => errors.push(e.error))
    expect(await cache.getOrSet('bad2', () => cyclic)).toBe(cyclic)
    expect(errors).toHaveLength(1)
  })
})

describe('lifetime', () => {
  it('ttl: Infinity means maxLifetime; ttl 0 returns without storing', async () => {
    const clock = new FakeClock()
    const cache = createCache({ clock, maxLifetime: '1h' })
    await cache.set('forever', 1, { ttl: Infinity })
    clock.advance(3_600_000 - 1)
    expect(await cache.get('forever')).toBe(1)
    clock.advance(1)
    expect(await cache.get('forever')).toBeUndefined()
    let runs = 0
    expect(await cache.getOrSet('zero', () => ++runs, { ttl: 0 })).toBe(1)
    expect(await cache.getOrSet('zero', () => ++runs, { ttl: 0 })).toBe(2)
  })

  it('close() makes invalidate fail with E_CLOSED', async () => {
    const cache = createCache()
    await cache.close()
    await expect(cache.invalidate('t')).rejects.toMatchObject({ code: 'E_CLOSED' })
  })

  it('close() emits close once, through whichever namespace closed it, then drops listeners', async () => {
    const cache = createCache({ namespace: 'app' })
    const closes: unknown[] = []
    const errors: unknown[] = []
    cache.on('close', (payload) => closes.push(payload))
    cache.on('error', (payload) => errors.push(payload))
    await cache.namespace('child').close()
    await cache.close()
    expect(closes).toEqual([{}])
    expect(errors).toEqual([])
  })
})
