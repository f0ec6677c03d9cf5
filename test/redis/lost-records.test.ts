import { afterEach, describe, expect, it } from 'vitest'

import { type Cache, createCache } from '../../src/index.js'
import { redisBus } from '../../src/redis/bus.js'
import { redisStore } from '../../src/redis/store.js'
import { recordKeys, redisClient, uniquePrefix } from '../helpers/tiers.js'

const N = 50
const keys = Array.from({ length: N }, (_, i) => `k${i}`)
const tagOf = (i: number) => `row:${i}`

const caches: Cache[] = []
afterEach(async () => {
  await Promise.all(caches.splice(0).map((cache) => cache.close()))
})

function open(prefix: string, options: { l1?: false; bus?: true } = {}): Cache {
  const cache = createCache({
    store: redisStore({ client: redisClient(), prefix }),
    ...(options.l1 === false ? { l1: false as const } : {}),
    ...(options.bus ? { bus: redisBus({ maxSilence: '10s' }) } : {}),
  })
  caches.push(cache)
  return cache
}

/** Stores N values, each with its own tag, then invalidates every tag: all N are stale now. */
async function invalidatedValues(prefix: string): Promise<void> {
  const writer = open(prefix)
  await Promise.all(keys.map((key, i) => writer.set(key, `old ${i}`, { tags: [tagOf(i)] })))
  await writer.invalidate(keys.map((_, i) => tagOf(i)))
}

const served = async (cache: Cache) =>
  (await Promise.all(keys.map((key) => cache.get(key)))).filter((v) => v !== undefined)

describe('lost tag records never bring an invalidated value back', () => {
  it('a new process reading after the records were deleted serves none of them', async () => {
    const prefix = uniquePrefix()
    await invalidatedValues(prefix)
    await redisClient().del(...recordKeys(prefix))
    const reader = open(prefix, { l1: false })
    const resets: unknown[] = []
    reader.on('store:reset', (event) => resets.push(event))
    expect(await served(reader)).toEqual([])
    expect(await reader.getMany(keys)).toEqual(keys.map(() => undefined))
    // Its first answer is the MGET of a proven read, which cannot see that the records went (the
    // script that judges the unproven entries finds it): at most that one reset, nothing to drop.
    expect(resets.length).toBeLessThanOrEqual(1)
  })

  it('a process with a bus that read them before also serves none, and hears of the reset', async () => {
    const prefix = uniquePrefix()
    await invalidatedValues(prefix)
    const reader = open(prefix, { l1: false, bus: true })
    await new Promise((resolve) => reader.on('bus:trusted', resolve))
    expect(await served(reader)).toEqual([])
    const reset = new Promise((resolve) => reader.on('store:reset', resolve))
    await redisClient().del(...recordKeys(prefix))
    expect(await served(reader)).toEqual([])
    // Any script call (here a write) finds the records gone and starts a new epoch.
    await open(prefix).set('other', 1)
    await reset
    expect(await served(reader)).toEqual([])
  })

  it('an older copy of the records put back is lost state too', async () => {
    const prefix = uniquePrefix()
    const writer = open(prefix)
    await Promise.all(keys.map((key, i) => writer.set(key, `old ${i}`, { tags: [tagOf(i)] })))
    const client = redisClient()
    const [hard, soft] = recordKeys(prefix) as [string, string]
    const copies = [await client.dumpBuffer(hard), await client.dumpBuffer(soft)]
    await writer.invalidate(keys.map((_, i) => tagOf(i)))
    await client.restore(hard, 0, copies[0] as Buffer, 'REPLACE')
    await client.restore(soft, 0, copies[1] as Buffer, 'REPLACE')
    expect(await served(open(prefix, { l1: false }))).toEqual([])
  })
})
