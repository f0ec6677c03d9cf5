import { Hono } from 'hono'
import { describe, expectTypeOf, test } from 'vitest'

import { cachegraph, type CachegraphVariables } from '../../src/adapters/hono.js'
import { type Cache, createCache } from '../../src/index.js'

const cache = createCache({})

describe('the Hono middleware’s variables', () => {
  test('an app declaring CachegraphVariables has a typed c.var.cache and c.get("cache")', () => {
    const app = new Hono<{ Variables: CachegraphVariables }>()
    app.use(cachegraph({ cache }))
    app.get('/', (c) => {
      expectTypeOf(c.var.cache).toEqualTypeOf<Cache>()
      expectTypeOf(c.get('cache')).toEqualTypeOf<Cache>()
      return c.text('ok')
    })
  })

  test('they merge with the app’s own variables', () => {
    const app = new Hono<{ Variables: CachegraphVariables & { user: string } }>()
    app.get('/', (c) => {
      expectTypeOf(c.var.cache).toEqualTypeOf<Cache>()
      expectTypeOf(c.var.user).toEqualTypeOf<string>()
      return c.text(c.var.user)
    })
  })

  test('a chained app learns them from the middleware itself', () => {
    new Hono().use(cachegraph({ cache })).get('/', (c) => {
      expectTypeOf(c.var.cache).toEqualTypeOf<Cache>()
      return c.text('ok')
    })
  })

  test('no global augmentation: an app that declares nothing has no typed cache variable', () => {
    new Hono().get('/', (c) => {
      // @ts-expect-error: `cache` is not a variable of an app that did not declare it
      c.get('cache')
      expectTypeOf(c.var).not.toHaveProperty('cache')
      return c.text('ok')
    })
  })

  test('route options are checked by type', () => {
    // @ts-expect-error: not a duration
    cachegraph.route({ ttl: 'soon' })
    expectTypeOf(cachegraph.route).parameter(0).exclude<undefined>().toHaveProperty('varyBy')
  })
})
