import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { createCache } from '../../src/index.js'
import { redisStore } from '../../src/redis/store.js'
import { deferred, until } from '../helpers/deferred.js'
import { type OwnRedis, startRedis } from '../helpers/redis-server.js'
import { uniquePrefix } from '../helpers/tiers.js'

/** Tests that restart or watch their Redis use one of their own, never the shared one. */
let server: OwnRedis
const clients: Redis[] = []
const connect = () => {
  const client = new Redis(server.url, { maxRetriesPerRequest: 1 })
  client.on('error', () => {}) // the restart test cuts connections on purpose
  clients.push(client)
  return client
}
/** A cache standing for one process: its own connection, a shared prefix. */
const processOn = (prefix: string, options: { l1?: false } = {}) =>
  createCache({ store: redisStore({ client: connect(), prefix }), ...options })

beforeAll(async () => {
  server = await startRedis()
})
afterAll(async () => {
  for (const client of clients) client.disconnect()
  await server.kill()
})

describe('several processes on one Redis', () => {
  it('a load invalidated by another process is refused by the store', async () => {
    const prefix = uniquePrefix()
    const a = processOn(prefix)
    const b = processOn(prefix)
    const gate = deferred<string>()
    let started = false
    const load = a.getOrSet('k', () => ((started = true), gate.promise), { tags: ['t'] })
    await until(() => started)
    await b.invalidate('t')
    gate.resolve('old')
    expect(await load).toBe('old')
    expect(await b.get('k')).toBeUndefined()
    expect(await processOn(prefix).get('k')).toBeUndefined()
  })

  it('an invalidation in one process is seen by every read served by Redis', async () => {
    const prefix = uniquePrefix()
    const a = processOn(prefix, { l1: false })
    const b = processOn(prefix, { l1: false })
    await a.set('k', 'v', { tags: ['user:1'] })
    expect(await b.get('k')).toBe('v')
    await b.invalidateEntity('user', 1)
    expect(await a.get('k')).toBeUndefined()
  })

  it('an L2 hit fills L1 with the entry’s original start (not the time it was read)', async () => {
    const prefix = uniquePrefix()
    const a = processOn(prefix)
    const b = processOn(prefix)
    await a.set('k', 'v', { tags: ['t'] })
    const written = (await a.inspect('k'))!
    await b.invalidate('unrelated') // the sequence moves on before b reads
    expect(await b.get('k')).toBe('v')
    const filled = (await b.inspect('k'))!
    expect(filled.tier).toBe('l1')
    expect(filled.start).toBe(written.start)
  })

  it('a restart without persistence is detected: the L1 is dropped, nothing invalidated revives', async () => {
    const prefix = uniquePrefix()
    const a = processOn(prefix)
    const b = processOn(prefix)
    const resets: unknown[] = []
    a.on('store:reset', (e) => resets.push(e))
    await a.set('k', 'v', { tags: ['t'] })
    expect(await a.get('k')).toBe('v') // in a's L1
    await b.invalidate('t') // a has no bus: its L1 has not heard of it
    await server.restart() // Redis forgets the entry, the record, the counter
    // Reads degrade to loaders while Redis is away; the first one it answers shows the loss.
    await until(async () => (await a.get('probe'), resets.length === 1), 10_000)
    expect(resets).toHaveLength(1)
    expect(await a.get('k')).toBeUndefined() // dropped with the L1, not served from it
    expect(await b.get('k')).toBeUndefined()
  })
})

describe('round trips', () => {
  let monitor: Redis
  const seen: string[][] = []
  beforeAll(async () => {
    monitor = await connect().monitor()
    monitor.on('error', () => {})
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (!source.includes('lua')) seen.push(args)
    })
  })
  afterAll(() => monitor.disconnect())

  /** Commands the clients sent (not those scripts ran) that concern `prefix`. */
  async function count(prefix: string, operation: () => Promise<unknown>): Promise<number> {
    await new Promise((resolve) => setTimeout(resolve, 20))
    seen.length = 0
    await operation()
    await new Promise((resolve) => setTimeout(resolve, 20))
    return seen.filter((args) => args.some((arg) => arg.includes(prefix))).length
  }

  it('one per read (miss or hit), one per invalidation, one per batch, two per load', async () => {
    const prefix = uniquePrefix()
    const cache = processOn(prefix, { l1: false })
    await cache.invalidate('warm-up') // loads the scripts once
    await cache.set('warm', 1)
    await cache.get('warm')
    expect(await count(prefix, () => cache.get('missing'))).toBe(1)
    expect(await count(prefix, () => cache.set('k', { a: 1 }, { tags: ['x', 'y', 'z'] }))).toBe(1)
    expect(await count(prefix, () => cache.get('k'))).toBe(1)
    expect(await count(prefix, () => cache.invalidate(['x', 'y', 'z', 'w']))).toBe(1)
    expect(await count(prefix, () => cache.getMany(['a', 'b', 'c', 'd', 'e']))).toBe(1)
    expect(
      await count(prefix, () => cache.setMany(['a', 'b', 'c'].map((key) => ({ key, value: key })))),
    ).toBe(1)
    expect(await count(prefix, () => cache.deleteMany(['a', 'b', 'c']))).toBe(1)
    expect(await count(prefix, () => cache.getOrSet('loaded', () => 'v'))).toBe(2) // read, then write
    expect(await count(prefix, () => cache.getOrSetMany(['m1', 'm2', 'm3'], (keys) => keys))).toBe(
      2,
    )
  })
})
