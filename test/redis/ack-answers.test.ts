import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

import type { Cache } from '../../src/cache/cache.js'
import { createCache } from '../../src/index.js'
import { listenersOf } from '../../src/http/admin/heard.js'
import { sendAnswer } from '../../src/redis/ack-answers.js'
import { redisBus } from '../../src/redis/bus.js'
import { RECORDS_LEFT, RECORDS_LOST } from '../../src/redis/fleet-scripts.js'
import { ackChannel, ackWaitsKey } from '../../src/redis/keys.js'
import { redisStore } from '../../src/redis/store.js'
import { until } from '../helpers/deferred.js'
import { gatedBus } from '../helpers/gated-bus.js'
import { type OwnRedis, startRedis } from '../helpers/redis-server.js'
import { uniquePrefix } from '../helpers/tiers.js'

/**
 * The members' side of acknowledged invalidations: answers are appends, one per request and Redis
 * connection per tick; a count of answers alone never completes a request; and records lost
 * while the state was not make requests wait the full `maxSilence` instead of asking nobody.
 * On a Redis of this file's own (MONITOR sees this file's commands only).
 */
let server: OwnRedis
let admin: Redis
const open: Cache[] = []
const clients: Redis[] = []

beforeAll(async () => {
  server = await startRedis()
  admin = new Redis(server.url)
})
afterEach(async () => {
  await Promise.all(open.splice(0).map((cache) => cache.close()))
  for (const client of clients.splice(0)) client.disconnect()
})
afterAll(async () => {
  admin.disconnect()
  await server.kill()
})

const MAX_SILENCE_MS = 300

async function member(prefix: string, client?: Redis) {
  const redis = redisBus({ maxSilence: MAX_SILENCE_MS })
  const bus = gatedBus(redis)
  const store = client ? redisStore({ client, prefix }) : redisStore({ url: server.url, prefix })
  const cache = createCache({ store, bus })
  open.push(cache)
  await new Promise<void>((resolve) => {
    const trusted = () => (cache.off('bus:trusted', trusted), resolve())
    cache.on('bus:trusted', trusted)
  })
  return { cache, gate: bus.gate, id: redis.clientName as string }
}

/** A member without a gate (a gate forwards messages, and lists no members). */
async function listener(prefix: string) {
  const bus = redisBus({ maxSilence: MAX_SILENCE_MS })
  const cache = createCache({ store: redisStore({ url: server.url, prefix }), bus })
  open.push(cache)
  await new Promise<void>((resolve) => {
    const trusted = () => (cache.off('bus:trusted', trusted), resolve())
    cache.on('bus:trusted', trusted)
  })
  return { cache, id: bus.clientName as string }
}

/** A value with tag `t` cached in `cache`'s L1 (the second read is an L1 hit). */
async function warm(cache: Cache) {
  let loads = 0
  const read = () => cache.getOrSet('k', () => ++loads, { tags: ['t'] })
  expect(await read()).toBe(1)
  expect(await read()).toBe(1)
  return read
}

describe('answers to acknowledgement requests', () => {
  it('are one RPUSHX per request per connection and tick, whatever the members answering', async () => {
    const prefix = uniquePrefix()
    const client = new Redis(server.url)
    clients.push(client)
    const [one, two] = [ackWaitsKey(prefix, 'r', 1), ackWaitsKey(prefix, 'r', 2)]
    await admin.rpush(one, '')
    await admin.rpush(two, '')
    const monitor = await new Redis(server.url).monitor()
    const seen: string[][] = []
    monitor.on('monitor', (_time: string, args: string[]) => seen.push(args))
    try {
      await client.ping() // the monitor is live once this shows
      await until(() => seen.some((args) => args[0]?.toLowerCase() === 'ping'))
      const channel = ackChannel(prefix, 'r')
      await Promise.all([
        sendAnswer(client, { key: one, channel, seq: 1, asked: 3, member: 'm1' }),
        sendAnswer(client, { key: one, channel, seq: 1, asked: 3, member: 'm2' }),
        sendAnswer(client, { key: one, channel, seq: 1, asked: 3, member: 'm3' }),
        sendAnswer(client, { key: two, channel, seq: 2, asked: 3, member: 'm1' }),
      ])
      await client.ping()
      await until(() => seen.filter((args) => args[0]?.toLowerCase() === 'ping').length === 2)
    } finally {
      monitor.disconnect()
    }
    const sent = seen.map((args) => args.map(String)).filter((args) => args[0] !== 'ping')
    expect(sent).toEqual([
      ['rpushx', one, 'm1', 'm2', 'm3'],
      ['rpushx', two, 'm1'],
      ['publish', ackChannel(prefix, 'r'), '1'], // the one request they completed
    ])
    expect(await admin.lrange(one, 0, -1)).toEqual(['', 'm1', 'm2', 'm3'])
  })

  it('an answer to a request that is over leaves nothing behind', async () => {
    const prefix = uniquePrefix()
    const key = ackWaitsKey(prefix, 'r', 1)
    await sendAnswer(admin, {
      key,
      channel: ackChannel(prefix, 'r'),
      seq: 1,
      asked: 1,
      member: 'm',
    })
    expect(await admin.exists(key)).toBe(0)
  })

  it('members sharing one store connection all answer', async () => {
    const prefix = uniquePrefix()
    const asker = await member(prefix)
    const client = new Redis(server.url)
    clients.push(client)
    const hosted = [
      await member(prefix, client),
      await member(prefix, client),
      await member(prefix, client),
    ]
    const reads = await Promise.all(hosted.map((h) => warm(h.cache)))
    const { fleet } = await asker.cache.invalidate('t', { ack: true })
    expect(fleet).toMatchObject({ members: 3, acked: 3, late: [], membersKnown: true })
    expect([...fleet!.applied].sort()).toEqual(hosted.map((h) => h.id).sort())
    for (const read of reads) expect(await read()).toBe(2)
  })

  it('a count of answers completes nothing: an answer from a member not asked is not one that was', async () => {
    const prefix = uniquePrefix()
    const [a, b] = [await member(prefix), await member(prefix)]
    b.gate.hold() // b cannot apply the step, so it cannot answer
    const acked = a.cache.invalidate('t', { ack: true })
    let key = ''
    await until(async () => ((key = (await admin.keys(`{${prefix}}:acks:*`))[0] ?? ''), key !== ''))
    const seq = Number(key.split(':').pop())
    // One answer of a stranger: as many as were asked, with the notice the last one sends.
    await admin.rpushx(key, 'stranger')
    await admin.publish(ackChannel(prefix, a.id), String(seq))
    const { fleet } = await acked
    expect(fleet).toMatchObject({ members: 1, acked: 0, applied: [], late: [b.id] })
    expect(fleet!.waitedMs).toBeGreaterThanOrEqual(MAX_SILENCE_MS - 5)
    b.gate.release()
  })
})

describe('records lost while the state was not', () => {
  it('a request waits the full maxSilence instead of asking nobody, and the records are marked lost', async () => {
    const prefix = uniquePrefix()
    const [a, b] = [await member(prefix), await member(prefix)]
    const read = await warm(b.cache)
    await admin.del(`{${prefix}}:members`) // evicted: nothing else is lost
    const { fleet } = await a.cache.invalidate('t', { ack: true })
    expect(fleet).toMatchObject({ members: 0, membersKnown: false })
    expect(fleet!.waitedMs).toBeGreaterThanOrEqual(MAX_SILENCE_MS - 5)
    expect(await admin.zscore(`{${prefix}}:members`, RECORDS_LOST)).not.toBeNull()
    expect(await read()).toBe(2)
    // Every request within the listing time after that waits the full time too, even once some
    // members joined again: which ones did not is unknown.
    const again = await a.cache.invalidate('t', { ack: true })
    expect(again.fleet).toMatchObject({ membersKnown: false })
  })

  it('the first member to join records that were lost marks them lost', async () => {
    const prefix = uniquePrefix()
    const a = await member(prefix)
    await a.cache.invalidate('unrelated') // the store has state
    await admin.del(`{${prefix}}:members`)
    await member(prefix) // joins records that are gone
    expect(await admin.zscore(`{${prefix}}:members`, RECORDS_LOST)).not.toBeNull()
  })

  it('records emptied by members that closed are not lost: the next fleet is sure of itself', async () => {
    const prefix = uniquePrefix()
    const first = await member(prefix)
    await first.cache.invalidate('unrelated') // the store has state
    await open.splice(0).pop()!.close()
    const [a, b] = [await member(prefix), await member(prefix)]
    const { fleet } = await a.cache.invalidate('t', { ack: true })
    expect(fleet).toMatchObject({ members: 1, applied: [b.id], membersKnown: true })
    expect(await admin.zscore(`{${prefix}}:members`, RECORDS_LOST)).toBeNull()
  })
})

describe('who listens', () => {
  it('members say whether they listen (one rule, which heard_by counts by); marks are nobody', async () => {
    const prefix = uniquePrefix()
    const [a, b] = [await listener(prefix), await listener(prefix)]
    const members = `{${prefix}}:members`
    const [seconds] = await admin.time()
    const now = Number(seconds) * 1000
    const gone = 'cachegraph-bus-1-0000dead' // silent for three idle renewals
    await admin.zadd(members, now - 180_000, gone, now, RECORDS_LOST, now, RECORDS_LEFT)
    const listed = await a.cache.members()
    expect(listed.map((m) => [m.id, m.listening]).sort()).toEqual(
      [
        [a.id, true],
        [b.id, true],
        [gone, false],
      ].sort(),
    )
    expect(await listenersOf(a.cache)).toBe(1)
  })
})
