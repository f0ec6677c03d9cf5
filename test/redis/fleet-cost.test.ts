import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

import { redisBus } from '../../src/redis/bus.js'
import type { Cache } from '../../src/cache/cache.js'
import { createCache } from '../../src/index.js'
import { JOIN } from '../../src/redis/fleet-scripts.js'
import { script } from '../../src/redis/runner.js'
import { HEARTBEAT } from '../../src/redis/scripts.js'
import { redisStore } from '../../src/redis/store.js'
import { startMember } from '../fleet/fleet.js'
import { until } from '../helpers/deferred.js'
import { next } from '../helpers/cache-events.js'
import { gatedBus } from '../helpers/gated-bus.js'
import { type OwnRedis, startRedis } from '../helpers/redis-server.js'
import { uniquePrefix } from '../helpers/tiers.js'

/**
 * What a fleet costs Redis: an idle process sends nothing, a reading one wakes on its own, and an
 * acknowledged invalidation is a constant number of calls for the process that asks, whatever the
 * number of members. Counted at the server, on a Redis of this file's own.
 */
const BACKGROUND = new Set([script(HEARTBEAT).sha, script(JOIN).sha])
let server: OwnRedis
let admin: Redis
const open: Cache[] = []

beforeAll(async () => {
  server = await startRedis()
  admin = new Redis(server.url)
})
afterEach(async () => {
  await Promise.all(open.splice(0).map((cache) => cache.close()))
})
afterAll(async () => {
  admin.disconnect()
  await server.kill()
})

async function member(prefix: string, maxSilenceMs: number) {
  const redis = redisBus({ maxSilence: maxSilenceMs })
  const bus = gatedBus(redis)
  const cache = createCache({ store: redisStore({ url: server.url, prefix }), bus })
  open.push(cache)
  const trusted = next(cache, 'bus:trusted')
  await trusted
  return { cache, gate: bus.gate, id: redis.clientName as string }
}

/** Commands Redis ran (inside scripts included), by `INFO commandstats`, less the INFO calls. */
async function commands(): Promise<number> {
  const info = await admin.info('commandstats')
  let total = 0
  for (const match of info.matchAll(/calls=(\d+)/g)) total += Number(match[1])
  return total
}

async function commandsDuring(operation: () => Promise<unknown>): Promise<number> {
  const before = await commands()
  await operation()
  return (await commands()) - before - 1
}

/** Reads `k` (`value`) until one is an L1 hit: the process woke and its bus vouches for it again. */
async function untilL1Hit(cache: Cache, value = 'v'): Promise<void> {
  await until(async () => {
    const hits = cache.stats().l1.hits
    expect(await cache.get('k')).toBe(value)
    return cache.stats().l1.hits > hits
  }, 5_000)
}

describe('an idle fleet', () => {
  it('sends nothing while idle (at most 1 command a second), and wakes on the next read', async () => {
    const prefix = uniquePrefix()
    // Long enough that a busy machine does not hold a timer up for maxSilence (that is silence).
    const maxSilence = 500
    const [a, b] = [await member(prefix, maxSilence), await member(prefix, maxSilence)]
    await a.cache.set('k', 'v')
    await untilL1Hit(a.cache)
    // Idle once nothing asked for trust for 2 × maxSilence; then a window of 5 × maxSilence.
    await new Promise((resolve) => setTimeout(resolve, maxSilence * 3))
    const seconds = (maxSilence * 5) / 1000
    const idle = await commandsDuring(
      () => new Promise((resolve) => setTimeout(resolve, maxSilence * 5)),
    )
    expect(idle).toBeLessThanOrEqual(seconds * 2) // two processes, 1 a second each at most
    // Dormant, not distrusted: the next read asks the store, and the L1 serves again after it.
    const hits = a.cache.stats().l1.hits
    expect(await a.cache.get('k')).toBe('v')
    expect(a.cache.stats().l1.hits).toBe(hits)
    await untilL1Hit(a.cache)
    expect(a.cache.stats().bus?.distrusts).toBe(0)
    expect(b.cache.stats().bus?.distrusts).toBe(0)
  })

  it('a silent bus is noticed by a process waking from idle: distrusted, nothing served from L1', async () => {
    const prefix = uniquePrefix()
    const maxSilence = 100
    const [a, b] = [await member(prefix, maxSilence), await member(prefix, maxSilence)]
    await b.cache.set('k', 'v', { tags: ['t'] })
    await untilL1Hit(b.cache)
    await new Promise((resolve) => setTimeout(resolve, maxSilence * 3)) // b is idle now
    b.gate.hold() // b's subscription hears nothing from here on
    await a.cache.invalidate('t')
    const distrusted = next(b.cache, 'bus:distrusted')
    expect(await b.cache.get('k')).toBeUndefined() // the wake asked the store
    expect(await distrusted).toEqual({ reason: 'silence' }) // its heartbeat never came back
    expect(await b.cache.get('k')).toBeUndefined()
    const trusted = next(b.cache, 'bus:trusted')
    b.gate.release()
    await trusted
    expect(await b.cache.get('k')).toBeUndefined()
  })

  it('heartbeats are the fleet’s: a reader stays trusted on another’s, and beats itself once that one is gone', async () => {
    const prefix = uniquePrefix()
    // Long enough that a busy machine does not hold a timer up for maxSilence (that is silence).
    const maxSilence = 400
    const [a, b] = [await member(prefix, maxSilence), await member(prefix, maxSilence)]
    await b.cache.set('k', 'v')
    await untilL1Hit(b.cache)
    const distrusts: unknown[] = []
    b.cache.on('bus:distrusted', (e) => distrusts.push(e))
    const beats = () => b.gate.delivered.filter((m) => m.kind === 'heartbeat').length
    // Both read: heartbeats flow, about one per quarter of maxSilence for the two of them.
    const reading = async (cache: Cache, until: () => boolean) => {
      while (!until()) {
        await cache.get('k')
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    }
    const seen = beats()
    await Promise.all([
      reading(a.cache, () => beats() >= seen + 6),
      reading(b.cache, () => beats() >= seen + 6),
    ])
    await a.cache.close() // the other reader goes away
    open.splice(open.indexOf(a.cache), 1)
    const after = beats()
    await reading(b.cache, () => beats() >= after + 6)
    expect(distrusts).toEqual([])
    await untilL1Hit(b.cache)
  })
})

describe('acknowledged invalidations', () => {
  it('cost the asking process the same calls whatever the fleet size, and name who applied', async () => {
    const prefix = uniquePrefix()
    const maxSilence = 400
    const a = await member(prefix, maxSilence)
    const others = [await member(prefix, maxSilence)]
    const one = await a.cache.invalidate('t', { ack: true })
    expect(one.fleet).toMatchObject({ members: 1, acked: 1, late: [], applied: [others[0]!.id] })
    others.push(await member(prefix, maxSilence), await member(prefix, maxSilence))
    const three = await a.cache.invalidate('t', { ack: true })
    expect(three.fleet).toMatchObject({ members: 3, acked: 3, late: [] })
    expect([...three.fleet!.applied].sort()).toEqual(others.map((o) => o.id).sort())
    // One call records the step and asks: counted at the server for 1 and for 3 members.
    const monitor = await new Redis(server.url).monitor()
    const byClient = new Map<string, string[]>()
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      // Heartbeats and joins of readers may fall in the window: not part of the count.
      if (source.startsWith('lua') || BACKGROUND.has(String(args[1]))) return
      byClient.set(source, [...(byClient.get(source) ?? []), String(args[0]).toLowerCase()])
    })
    try {
      await new Promise((resolve) => setTimeout(resolve, 50))
      byClient.clear()
      const result = await a.cache.invalidate('t', { ack: true })
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect(result.fleet?.acked).toBe(3)
      // However many members there are: the asker sends its step with its request, and one read
      // of who answered; each member one append (no script), and the one that completes the
      // request one notice.
      const sent = [...byClient.values()]
      const asker = sent.filter((s) => s.includes('lrange'))
      expect(asker).toHaveLength(1)
      expect(asker[0]).toEqual(['evalsha', 'lrange'])
      const answers = sent.filter((s) => s.includes('rpushx'))
      expect(answers).toHaveLength(3)
      for (const s of answers) expect(s.filter((c) => c !== 'publish')).toEqual(['rpushx'])
      expect(answers.flat().filter((c) => c === 'publish')).toHaveLength(1)
    } finally {
      monitor.disconnect()
    }
  })

  it('a store that lost its state lost the records too: members join again before their L1 serves', async () => {
    const prefix = uniquePrefix()
    const maxSilence = 300
    const [a, b] = [await member(prefix, maxSilence), await member(prefix, maxSilence)]
    await b.cache.set('k', 'v', { tags: ['t'] })
    await untilL1Hit(b.cache)
    const reset = next(b.cache, 'store:reset')
    const state = ['seq', 'epoch', 'floor', 'h', 's', 'members'].map((k) => `{${prefix}}:${k}`)
    await admin.del(...state)
    await a.cache.invalidate('unrelated') // the first step of a new epoch
    await reset
    await until(async () => (await admin.zscore(`{${prefix}}:members`, b.id)) !== null)
    await b.cache.set('k', 'v2', { tags: ['t'] })
    await untilL1Hit(b.cache, 'v2')
    const { fleet } = await a.cache.invalidate('t', { ack: true })
    expect(fleet).toMatchObject({ members: 1, applied: [b.id], late: [] })
    expect(await b.cache.get('k')).toBeUndefined()
  })

  it('a member that died is named late, and holds the request up for maxSilence at most', async () => {
    const prefix = uniquePrefix()
    const maxSilence = 300
    const a = await member(prefix, maxSilence)
    const b = await member(prefix, maxSilence)
    const dead = await startMember(server.url, prefix, maxSilence)
    const deadId = await dead.call<string>('clientName')
    dead.process.kill('SIGKILL') // no close(): its record stays
    await new Promise((resolve) => dead.process.once('exit', resolve))
    for (let i = 0; i < 2; i++) {
      const { fleet } = await a.cache.invalidate('t', { ack: true })
      expect(fleet).toMatchObject({ members: 2, acked: 1, applied: [b.id], late: [deadId] })
      expect(fleet!.waitedMs).toBeGreaterThanOrEqual(maxSilence - 5)
    }
  })
})
