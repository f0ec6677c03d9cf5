import { describe, expect, expectTypeOf, it } from 'vitest'

import { createCache, dependsOn, entityTag } from '../../src/index.js'
import { quiesce as settle, WITH_AND_WITHOUT_STORE } from '../helpers/tiers.js'
import { deferred } from '../helpers/deferred.js'

describe.each(WITH_AND_WITHOUT_STORE)('wrap (%s)', (_name, tiers) => {
  const setup = () => {
    const cache = createCache(tiers())
    const db = {
      users: new Map<string, { id: number; name: string; teamId: number }>([
        ['1', { id: 1, name: 'Ada', teamId: 7 }],
        ['2', { id: 2, name: 'Grace', teamId: 7 }],
      ]),
      reads: 0,
    }
    const getUser = cache.wrap(
      async (id: string) => {
        db.reads++
        dependsOn(`user:${id}`)
        return { ...db.users.get(id)! }
      },
      { name: 'getUser' },
    )
    const getTeam = cache.wrap(
      async (teamId: number) => {
        const ids = [...db.users.entries()].filter(([, u]) => u.teamId === teamId).map(([id]) => id)
        return { teamId, members: await Promise.all(ids.map((id) => getUser(id))) }
      },
      { name: 'getTeam' },
    )
    return { cache, db, getUser, getTeam }
  }

  it('memoizes by arguments; .invalidate drops one call', async () => {
    const { db, getUser } = setup()
    await getUser('1')
    await getUser('1')
    await getUser('2')
    expect(db.reads).toBe(2)
    await getUser.invalidate('1')
    await getUser('1')
    await getUser('2')
    expect(db.reads).toBe(3)
  })

  it('.clear drops every call of the function, and only of that function', async () => {
    const { cache, db, getUser } = setup()
    const other = cache.wrap(() => 'x', { name: 'other' })
    let otherRuns = 0
    await other()
    await getUser('1')
    await getUser('2')
    await getUser.clear()
    await getUser('1')
    await getUser('2')
    expect(db.reads).toBe(4)
    const counted = cache.wrap(() => ++otherRuns, { name: 'other' }) // same name: shares entries
    expect(await counted()).toBe('x')
  })

  it('nested: invalidating an entity drops the inner call and every outer one containing it', async () => {
    const { cache, db, getTeam } = setup()
    await getTeam(7)
    expect(db.reads).toBe(2)
    db.users.get('2')!.name = 'Grace Hopper'
    await cache.invalidateEntity('user', 2)
    const team = await getTeam(7)
    expect(team.members.map((m) => m.name)).toEqual(['Ada', 'Grace Hopper'])
    expect(db.reads).toBe(3) // user 1 still cached
    await getTeam(7)
    expect(db.reads).toBe(3) // and the team is cached again
  })

  it('nested: tags propagate from an inner hit', async () => {
    const { cache, getUser, getTeam } = setup()
    await getUser('1')
    await getUser('2') // both inner entries exist before the outer is computed
    await getTeam(7)
    await cache.invalidate('user:1')
    expect(await getTeam.peek(7)).toBeUndefined()
  })

  it('.refresh recomputes and stores; .peek reads without loading; .key is stable', async () => {
    const { db, getUser } = setup()
    expect(await getUser.peek('1')).toBeUndefined()
    await getUser('1')
    db.users.get('1')!.name = 'Ada L.'
    expect((await getUser.peek('1'))?.name).toBe('Ada')
    expect((await getUser.refresh('1')).name).toBe('Ada L.')
    expect((await getUser('1')).name).toBe('Ada L.')
    expect(getUser.key('1')).toBe(getUser.key('1'))
    expect(getUser.key('1')).not.toBe(getUser.key('2'))
  })

  it('tags as a function of (args, result); entity tags from results, lists and pages', async () => {
    const { cache } = setup()
    let runs = 0
    const listUsers = cache.wrap(
      async (page: number) => {
        runs++
        return {
          items: [{ id: page * 10 + 1 }, { id: page * 10 + 2, org: { id: 99 } }],
          next: page + 1,
        }
      },
      { name: 'listUsers', entity: 'user', tags: (args) => [`page:${args[0]}`] },
    )
    await listUsers(1)
    await cache.invalidateEntity('user', '12') // an entity inside a page, id given as a string
    await listUsers(1)
    expect(runs).toBe(2)
    await cache.invalidateEntity('user', 99) // a nested object of another type is not a user
    await listUsers(1)
    expect(runs).toBe(2)
    await cache.invalidate('page:1')
    await listUsers(1)
    expect(runs).toBe(3)
  })

  it('custom id field and entities()', async () => {
    const { cache } = setup()
    let runs = 0
    const byUuid = cache.wrap(
      async () => {
        runs++
        return [{ uuid: 'a-1' }, { uuid: 'b-2' }]
      },
      { name: 'byUuid', entity: { type: 'account', idField: 'uuid' } },
    )
    const custom = cache.wrap(async () => ({ owner: 5 }), {
      name: 'custom',
      entities: (result) => [entityTag('user', result.owner)],
    })
    await byUuid()
    await custom()
    await cache.invalidateEntity('account', 'b-2')
    await byUuid()
    expect(runs).toBe(2)
    await cache.invalidateEntity('user', 5)
    expect(await custom.peek()).toBeUndefined()
  })

  it('custom key and normalizeArgs', async () => {
    const { cache } = setup()
    let runs = 0
    const search = cache.wrap(
      async (query: { text: string; requestId: string }) => {
        runs++
        return query.text
      },
      { name: 'search', normalizeArgs: ([query]) => [query.text.toLowerCase()] },
    )
    await search({ text: 'Cats', requestId: 'r1' })
    await search({ text: 'cats', requestId: 'r2' })
    expect(runs).toBe(1)
    const byKey = cache.wrap(async (id: number) => id, { name: 'byKey', key: (id) => `id-${id}` })
    expect(byKey.key(3)).toBe('byKey:id-3')
  })

  it('a joiner inside another loader gets the flight’s tags', async () => {
    const { cache } = setup()
    const gate = deferred<string>()
    const inner = cache.wrap(
      async () => {
        dependsOn('inner-tag')
        return gate.promise
      },
      { name: 'inner' },
    )
    const first = inner() // leads the flight
    await settle()
    const outer = cache.wrap(async () => `outer(${await inner()})`, { name: 'outer' }) // joins it
    const outerCall = outer()
    await settle()
    gate.resolve('v')
    expect(await first).toBe('v')
    expect(await outerCall).toBe('outer(v)')
    await cache.invalidate('inner-tag')
    expect(await outer.peek()).toBeUndefined()
  })

  it('wrap needs a name', () => {
    const { cache } = setup()
    expect(() => cache.wrap(async () => 1, { name: '' })).toThrow(/`name`/)
  })
})

describe('wrap types', () => {
  it('infers the signature of the wrapped function', () => {
    const cache = createCache()
    const getUser = cache.wrap(async (id: string, withPosts?: boolean) => ({ id, withPosts }), {
      name: 'u',
    })
    expectTypeOf(getUser).parameters.toEqualTypeOf<[id: string, withPosts?: boolean]>()
    expectTypeOf(getUser).returns.resolves.toEqualTypeOf<{
      id: string
      withPosts: boolean | undefined
    }>()
    expectTypeOf(getUser.invalidate).parameters.toEqualTypeOf<[id: string, withPosts?: boolean]>()
    expectTypeOf(getUser.peek).returns.resolves.toEqualTypeOf<
      { id: string; withPosts: boolean | undefined } | undefined
    >()
    const sync = cache.wrap((n: number) => n * 2, { name: 'sync' })
    expectTypeOf(sync).returns.resolves.toBeNumber()
  })
})
