import Fastify from 'fastify'
import { afterEach, describe, expect, inject, it } from 'vitest'

import { cachegraph } from '../../src/adapters/fastify.js'
import { redisBus } from '../../src/redis/bus.js'
import type { Cache } from '../../src/cache/cache.js'
import { createCache, isCacheError } from '../../src/index.js'
import { redisStore } from '../../src/redis/store.js'
import { uniquePrefix } from '../helpers/tiers.js'

/**
 * The `ack` option: a write's response is sent once every other process has applied its
 * invalidation — so a read in another process right after the response cannot be served the old
 * value from that process's L1 (without `ack` it could, until the bus delivers).
 */
const open: { close(): Promise<unknown> }[] = []
afterEach(async () => {
  for (const one of open.splice(0).reverse()) await one.close()
})

async function member(prefix: string): Promise<Cache> {
  const cache = createCache({
    store: redisStore({ url: inject('redisUrl'), prefix }),
    bus: redisBus({ maxSilence: 400 }),
  })
  open.push(cache)
  await new Promise((resolve) => cache.on('bus:trusted', resolve))
  return cache
}

describe('HTTP writes with ack', () => {
  it('answers a write once the other processes applied it: none serves the old value', async () => {
    const prefix = uniquePrefix()
    const [writer, reader] = [await member(prefix), await member(prefix)]
    let version = 1
    const app = Fastify()
    open.push(app)
    await app.register(cachegraph, { cache: writer, ack: true })
    app.patch('/users/:id', () => ({ id: 7, version: ++version }))
    let loads = 0
    const read = () => reader.getOrSet('user-7', () => (++loads, version), { tags: ['user:7'] })
    expect(await read()).toBe(1)
    expect(await read()).toBe(1) // the reader's L1
    const response = await app.inject({ method: 'PATCH', url: '/users/7' })
    expect(response.statusCode).toBe(200)
    expect(await read()).toBe(2) // no wait for the bus
    expect(loads).toBe(2)
  })

  it('is checked when the plugin registers', async () => {
    const app = Fastify()
    open.push(app)
    const cache = createCache()
    open.push(cache)
    let error: unknown
    try {
      await app.register(cachegraph, { cache, ack: 'yes' as never })
      await app.ready()
    } catch (e) {
      error = e
    }
    expect(isCacheError(error, 'E_INVALID_OPTION')).toBe(true)
    expect(String(error)).toMatch(/`?ack`?/)
  })
})
