import { describe, expectTypeOf, test } from 'vitest'

import {
  createCache,
  type CacheEvents,
  type CacheSettings,
  type Duration,
  type InvalidationResult,
  type LoaderContext,
  type Memoized,
} from '../../src/index.js'

interface User {
  id: string
  name: string
}

const cache = createCache({})
const loadUser = async (): Promise<User> => ({ id: '1', name: 'a' })
const findUser = async (id: string, withPosts?: boolean): Promise<User> => ({
  id,
  name: withPosts === true ? 'with posts' : 'plain',
})

describe('wrap', () => {
  test('keeps the arguments and the resolved result of the wrapped function', () => {
    const getUser = cache.wrap(findUser, { name: 'getUser' })
    expectTypeOf(getUser).toEqualTypeOf<Memoized<[id: string, withPosts?: boolean], User>>()
    expectTypeOf(getUser).parameters.toEqualTypeOf<[id: string, withPosts?: boolean]>()
    expectTypeOf(getUser).returns.toEqualTypeOf<Promise<User>>()
    expectTypeOf(getUser.peek).returns.toEqualTypeOf<Promise<User | undefined>>()
    expectTypeOf(getUser.invalidate).returns.toEqualTypeOf<Promise<InvalidationResult>>()
    expectTypeOf(getUser.key).parameters.toEqualTypeOf<[id: string, withPosts?: boolean]>()
    // @ts-expect-error: the id is a string
    void getUser(42)
    // @ts-expect-error: too many arguments
    void getUser('1', true, 'x')
  })

  test('keeps optional parameters optional when a key function names them', () => {
    const getUser = cache.wrap(findUser, {
      name: 'getUser',
      key: (id, withPosts) => `${id}${withPosts}`,
    })
    expectTypeOf(getUser).parameters.toEqualTypeOf<[id: string, withPosts?: boolean]>()
    void getUser('1')
  })

  test('makes a synchronous function async, without nesting promises', () => {
    const sum = cache.wrap((a: number, b: number) => a + b, { name: 'sum' })
    expectTypeOf(sum).returns.toEqualTypeOf<Promise<number>>()
    const nested = cache.wrap(async () => Promise.resolve('x'), { name: 'nested' })
    expectTypeOf(nested).returns.toEqualTypeOf<Promise<string>>()
  })

  test('types its options by the arguments and the result', () => {
    cache.wrap(findUser, {
      name: 'getUser',
      key: (id, withPosts) => {
        expectTypeOf(id).toEqualTypeOf<string>()
        expectTypeOf(withPosts).toEqualTypeOf<boolean | undefined>()
        return id
      },
      tags: (args, user) => {
        expectTypeOf(args).toEqualTypeOf<Parameters<typeof findUser>>()
        expectTypeOf(user).toEqualTypeOf<User>()
        return [`user:${user.id}`]
      },
      entities: (user) => [user.name],
      ttl: '5m',
    })
    // @ts-expect-error: a name is required
    cache.wrap(findUser, {})
    // @ts-expect-error: tags of the result must be strings
    cache.wrap(findUser, { name: 'getUser', tags: (_args, user) => [user] })
    // @ts-expect-error: no such option
    cache.wrap(findUser, { name: 'getUser', nope: true })
  })
})

describe('getOrSet', () => {
  test('infers the value from the loader, sync or async', () => {
    expectTypeOf(cache.getOrSet('k', () => 1)).toEqualTypeOf<Promise<number>>()
    expectTypeOf(cache.getOrSet('k', loadUser)).toEqualTypeOf<Promise<User>>()
    void cache.getOrSet('k', (context) => {
      expectTypeOf(context).toEqualTypeOf<LoaderContext>()
      return 'x'
    })
  })

  test('types tags of the result by the loaded value', () => {
    void cache.getOrSet('k', loadUser, {
      tags: (user) => {
        expectTypeOf(user).toEqualTypeOf<User>()
        return [`user:${user.id}`]
      },
    })
    // @ts-expect-error: an explicit T the loader does not produce
    void cache.getOrSet<number>('k', () => 'x')
  })
})

describe('get and getMany', () => {
  test('answer undefined on a miss; unknown unless a type is given', () => {
    expectTypeOf(cache.get('k')).toEqualTypeOf<Promise<unknown>>()
    expectTypeOf(cache.get<User>('k')).toEqualTypeOf<Promise<User | undefined>>()
    expectTypeOf(cache.getMany<User>(['a', 'b'])).toEqualTypeOf<Promise<(User | undefined)[]>>()
    expectTypeOf(cache.getMany(['a'])).toEqualTypeOf<Promise<unknown[]>>()
    // @ts-expect-error: keys are strings
    void cache.getMany([1])
  })
})

describe('events', () => {
  test('listeners get the payload of their event', () => {
    cache.on('invalidate', (event) => {
      expectTypeOf(event).toEqualTypeOf<CacheEvents['invalidate']>()
      expectTypeOf(event.tags).toEqualTypeOf<readonly string[]>()
      expectTypeOf(event.seq).toBeNumber()
      expectTypeOf(event.stale).toBeBoolean()
    })
    cache.on('hit', (event) => expectTypeOf(event.tier).toEqualTypeOf<'l1' | 'l2'>())
    cache.on('store:circuit', (event) => {
      expectTypeOf(event.state).toEqualTypeOf<'closed' | 'open' | 'half-open'>()
    })
    cache.on('close', (event) => expectTypeOf(event).toEqualTypeOf<Record<string, never>>())
    const listener = (event: CacheEvents['miss']) => void event.key
    expectTypeOf(cache.on('miss', listener).off('miss', listener)).toEqualTypeOf(cache)
  })

  test('rejects unknown events and listeners of another event', () => {
    // @ts-expect-error: no such event
    cache.on('nope', () => {})
    // @ts-expect-error: no such event
    cache.off('invalidated', () => {})
    // @ts-expect-error: a miss has no tags
    cache.on('miss', (event: CacheEvents['invalidate']) => void event.tags)
  })
})

describe('loader context', () => {
  test('ctx has the load’s signal and setGrace; earlyRefresh is a fraction', () => {
    const value = cache.getOrSet(
      'k',
      (ctx) => {
        expectTypeOf(ctx.signal).toEqualTypeOf<AbortSignal>()
        expectTypeOf(ctx.setGrace).parameters.toEqualTypeOf<[grace: Duration]>()
        ctx.setGrace('1h')
        return loadUser()
      },
      { signal: AbortSignal.timeout(1_000), earlyRefresh: 0.8 },
    )
    expectTypeOf(value).toEqualTypeOf<Promise<User>>()
    // @ts-expect-error: a fraction of the ttl, not a string
    void cache.getOrSet('k', loadUser, { earlyRefresh: '80%' })
    // @ts-expect-error: the signal is the load's, read-only
    void cache.getOrSet('k', (ctx) => ((ctx.signal = AbortSignal.abort()), 1))
    void cache.wrap(findUser, { name: 'getUser', earlyRefresh: 0.9 })
  })
})

describe('settings', () => {
  test('are read-only', () => {
    expectTypeOf(cache.settings).toEqualTypeOf<CacheSettings>()
    expectTypeOf(cache.settings.ttlMs).toBeNumber()
    expectTypeOf(cache.settings.storeName).toEqualTypeOf<string | undefined>()
    // @ts-expect-error: settings cannot be replaced
    cache.settings = createCache({}).settings
    // @ts-expect-error: nor changed
    cache.settings.ttlMs = 1
  })
})
