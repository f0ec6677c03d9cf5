import { Redis } from 'ioredis'
import { afterEach, describe, expect, inject, it } from 'vitest'

import { type BusMessage, parseBusMessage } from '../../src/bus/bus.js'
import type { Cache } from '../../src/cache/cache.js'
import { createCache } from '../../src/index.js'
import { redisBus } from '../../src/redis/bus.js'
import { slotKeys } from '../../src/redis/keys.js'
import { PIPELINE_LISTENERS, PIPELINE_STEPS_FROM, StepBatch } from '../../src/redis/step-batch.js'
import { type RedisStore, redisStore } from '../../src/redis/store.js'
import { MAX_PART_ITEMS } from '../../src/stores/batch-limits.js'
import { next } from '../helpers/cache-events.js'
import { gatedBus } from '../helpers/gated-bus.js'
import { startRedis } from '../helpers/redis-server.js'
import { redisClient, uniquePrefix } from '../helpers/tiers.js'

/**
 * Steps sent in the same tick go to Redis as one script run: one range of sequence numbers, one
 * bus message and one log entry for all of them, applied in order by every process.
 */
const open: Cache[] = []
const subscribers: Redis[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((cache) => cache.close()))
  for (const subscriber of subscribers.splice(0)) subscriber.disconnect()
})

async function member(prefix: string) {
  const bus = gatedBus(redisBus({ maxSilence: '10s' }))
  const store = redisStore({ url: inject('redisUrl'), prefix }) as RedisStore
  const cache = createCache({ store, bus })
  open.push(cache)
  await next(cache, 'bus:trusted')
  return { cache, gate: bus.gate, store }
}

/** Every message published on the prefix's bus channel (heartbeats left out), as sent. */
async function tapChannel(prefix: string): Promise<string[]> {
  const subscriber = new Redis(inject('redisUrl'))
  subscribers.push(subscriber)
  const seen: string[] = []
  subscriber.on('message', (_channel: string, text: string) => {
    if (text.split('\n')[2] !== 'b') seen.push(text)
  })
  await subscriber.subscribe(slotKeys(prefix).bus)
  return seen
}

const logLength = (prefix: string) => redisClient().xlen(slotKeys(prefix).log)
const stepsOf = (messages: readonly BusMessage[], origin: string) =>
  messages.filter((m) => m.kind !== 'heartbeat' && m.origin === origin)

describe('steps of one tick share one script, one bus message and one log entry', () => {
  it('a batch with an invalidation in the middle: consecutive steps, applied in order everywhere', async () => {
    const prefix = uniquePrefix()
    const [a, b] = [await member(prefix), await member(prefix)]
    // Stored once already (by b: only a's steps are counted below), so their sets below are
    // heard (a first set is quiet).
    await b.cache.setMany([
      { key: 'k1', value: 0 },
      { key: 'k2', value: 0 },
    ])
    const channel = await tapChannel(prefix)
    const logBefore = await logLength(prefix)
    // Same tick: k1 (tag t), then t invalidated, then k2 (tag t).
    await Promise.all([
      a.cache.set('k1', 1, { tags: ['t'] }),
      a.cache.invalidate('t'),
      a.cache.set('k2', 2, { tags: ['t'] }),
    ])
    expect(await logLength(prefix)).toBe(logBefore + 1)
    const steps = await b.gate.until(
      (m) => m.origin === a.store.origin && m.tags.includes('@key:cg::k2'),
    )
    const heard = stepsOf(b.gate.delivered, a.store.origin)
    expect(heard.map((m) => m.tags)).toEqual([['@key:cg::k1'], ['t'], ['@key:cg::k2']])
    expect(heard.map((m) => m.seq)).toEqual([steps.seq - 2, steps.seq - 1, steps.seq])
    await expect.poll(() => channel.length).toBe(1)
    expect(parseBusMessage(channel[0] as string)).toEqual(heard)
    // In order: the invalidation voids k1, written before it, and not k2, written after it.
    for (const cache of [a.cache, b.cache]) {
      expect(await cache.get('k1')).toBeUndefined()
      expect(await cache.get('k2')).toBe(2)
    }
  })

  it('a call sees the records of the calls before it in the same run, not those after it', async () => {
    const store = redisStore({ url: inject('redisUrl'), prefix: uniquePrefix() }) as RedisStore
    try {
      const { seq } = await store.read([])
      const load = (key: string) => ({ key, payload: key, tags: ['t'], start: seq, ttlMs: 60_000 })
      const superseding = (key: string, tags: string[]) => ({
        key,
        payload: key,
        tags: [...tags, `@key:${key}`],
        keyTag: `@key:${key}`,
        ttlMs: 60_000,
      })
      // One tick, one script: before the invalidation, as of seq: stored; after it: refused. A
      // superseding write after it is as of its own step, above t's record: stored; and a load
      // of that key as of seq, after it, is refused by the key's new record.
      const [before, invalidated, after, set, late] = await Promise.all([
        store.write([load('before')]),
        store.invalidate(['t']),
        store.write([load('after')]),
        store.write([superseding('set', ['t'])]),
        store.write([{ ...load('set'), tags: ['@key:set'] }]),
      ])
      expect([before, after, set, late].map((w) => w.written)).toEqual([
        [true],
        [false],
        [true],
        [false],
      ])
      expect(set.starts).toEqual([invalidated.seq + 1])
      const read = await store.read(['after', 'set'])
      expect(read.entries.map((entry) => entry?.payload)).toEqual([undefined, 'set'])
      expect(read.tagSeqs['@key:set']?.hard).toBe(invalidated.seq + 1)
      expect(read.tagSeqs.t?.hard).toBe(invalidated.seq)
    } finally {
      await store.close()
    }
  })

  it('a lost batch message is made up from the log: the replay covers its whole range', async () => {
    const prefix = uniquePrefix()
    const [a, b] = [await member(prefix), await member(prefix)]
    await b.cache.set('kept', 'k', { tags: ['other'] })
    await b.cache.set('gone', 'g', { tags: ['t'] })
    await a.cache.set('x', 0) // stored once: its next set is heard, not quiet
    // Every step so far went through b's gate.
    const { seq } = await b.cache.invalidate('heard')
    await b.gate.until((m) => m.kind !== 'heartbeat' && m.seq === seq)
    // The three steps of the next batch make one message: b loses all of it.
    b.gate.dropNextSteps(3)
    await Promise.all([
      a.cache.set('x', 1),
      a.cache.invalidate('t'),
      a.cache.invalidate('u', { stale: true }),
    ])
    const bus = () => b.cache.stats().bus as NonNullable<ReturnType<Cache['stats']>['bus']>
    const before = bus()
    const synced = next(b.cache, 'bus:sync')
    const last = await a.cache.invalidate('unrelated') // b sees a gap of three steps
    expect(await synced).toEqual({ seq: last.seq, replayed: 4, startedOver: false })
    const after = bus()
    expect([after.gaps - before.gaps, after.replayed - before.replayed]).toEqual([1, 4])
    expect(after.startOvers).toBe(before.startOvers)
    expect(await b.cache.get('gone')).toBeUndefined()
    const hits = b.cache.stats().l1.hits
    expect(await b.cache.get('kept')).toBe('k')
    expect(b.cache.stats().l1.hits).toBe(hits + 1)
  })

  it('a batch past one part’s limit goes out as several runs, in order, each with its message', async () => {
    const prefix = uniquePrefix()
    const [a, b] = [await member(prefix), await member(prefix)]
    const channel = await tapChannel(prefix)
    const logBefore = await logLength(prefix)
    const big = (name: string) =>
      Array.from({ length: MAX_PART_ITEMS - 400 }, (_, i) => `${name}:${i}`)
    const [one, two, three] = await Promise.all([
      a.store.invalidate(big('first')),
      a.store.invalidate(big('second')),
      a.store.invalidate(['third']),
    ])
    // 600 + 600 tags do not fit one run: the second and third share the next one.
    expect([two.seq - one.seq, three.seq - two.seq]).toEqual([1, 1])
    expect(await logLength(prefix)).toBe(logBefore + 2)
    await expect.poll(() => channel.length).toBe(2)
    expect(channel.map((text) => parseBusMessage(text)?.map((m) => m.seq))).toEqual([
      [one.seq],
      [two.seq, three.seq],
    ])
    await b.gate.until((m) => m.seq === three.seq)
    expect(b.cache.stats().bus).toMatchObject({ trusted: true, gaps: 0 })
  })
})

describe('StepBatch', () => {
  it('merges the calls of one tick, in order, and fails every call of a run that failed', async () => {
    const runs: string[][] = []
    const batch = new StepBatch(async (args) => {
      runs.push(args)
      if (args.includes('fail')) throw new Error('store down')
      return ['epoch', 1, ...args.filter((arg) => arg === 'i').map((_, i) => [String(i)])]
    })
    const call = (tag: string) => ({ args: ['i', '1', tag], items: 1, bytes: tag.length })
    const answers = await Promise.all([batch.send(call('a')), batch.send(call('b'))])
    expect(answers).toEqual([
      { epoch: 'epoch', reply: ['0'] },
      { epoch: 'epoch', reply: ['1'] },
    ])
    expect(runs).toEqual([['i', '1', 'a', 'i', '1', 'b']])
    const failed = await Promise.allSettled([batch.send(call('c')), batch.send(call('fail'))])
    expect(failed.map((result) => result.status)).toEqual(['rejected', 'rejected'])
    // Calls past one part's items go out as another run.
    runs.length = 0
    const many = { args: ['i', '0'], items: MAX_PART_ITEMS, bytes: 0 }
    await Promise.all([batch.send(many), batch.send(call('d'))])
    expect(runs.length).toBe(2)
  })

  it('sends a tick of PIPELINE_STEPS_FROM calls or more as two runs of half each while few listen', async () => {
    const runs: string[][] = []
    let listeners = 1
    const batch = new StepBatch(async (args) => {
      runs.push(args)
      return ['epoch', listeners, ...args.filter((arg) => arg === 'i').map((_, i) => [String(i)])]
    })
    const call = (tag: string) => ({ args: ['i', '1', tag], items: 1, bytes: tag.length })
    const tags = (n: number) => Array.from({ length: n }, (_, i) => `t${i}`)
    const tagsOf = (run: string[]) => run.filter((_, i) => i % 3 === 2)
    const n = PIPELINE_STEPS_FROM * 2 + 1
    const half = Math.ceil(n / 2)

    // Before any run answered, the listeners are unknown: one run.
    await Promise.all(tags(n).map((tag) => batch.send(call(tag))))
    expect(runs.map(tagsOf)).toEqual([tags(n)])

    runs.length = 0
    await Promise.all(tags(PIPELINE_STEPS_FROM - 1).map((tag) => batch.send(call(tag))))
    expect(runs.map(tagsOf)).toEqual([tags(PIPELINE_STEPS_FROM - 1)])

    runs.length = 0
    const answers = await Promise.all(tags(n).map((tag) => batch.send(call(tag))))
    expect(runs.map(tagsOf)).toEqual([tags(n).slice(0, half), tags(n).slice(half)])
    // Each call answered from its own run, by its place in that run.
    expect(answers.map(({ reply }) => (reply as string[])[0])).toEqual(
      tags(n).map((_, i) => String(i < half ? i : i - half)),
    )

    // A fleet that listens: every extra run is a message to each member, so one run per tick.
    listeners = PIPELINE_LISTENERS + 1
    await batch.send(call('x'))
    runs.length = 0
    await Promise.all(tags(n).map((tag) => batch.send(call(tag))))
    expect(runs.map(tagsOf)).toEqual([tags(n)])
  })

  it('on Redis, splits a busy tick in two runs while few subscribers listen, and not once more do', async () => {
    const prefix = uniquePrefix()
    const store = redisStore({ url: inject('redisUrl'), prefix }) as RedisStore
    open.push(createCache({ store }))
    const seen = await tapChannel(prefix)
    const tap = subscribers[subscribers.length - 1] as Redis
    // A round trip on the tap's own connection: every message published before has arrived.
    const settled = async () => {
      await tap.ping()
      return seen.length
    }
    const tick = (n: number) =>
      Promise.all(Array.from({ length: n }, (_, i) => store.invalidate([`t${i}`])))

    await store.invalidate(['first']) // its answer: one subscriber
    await tick(64)
    expect(await settled()).toBe(1 + 2)

    for (let i = 0; i < PIPELINE_LISTENERS; i++) await tapChannel(prefix)
    await store.invalidate(['again']) // its answer: PIPELINE_LISTENERS + 1 subscribers
    await tick(64)
    expect(await settled()).toBe(3 + 1 + 1)
  })

  it('lets a run the server could not start be sent again only while no run was sent after it', async () => {
    const asked: (() => boolean)[] = []
    const batch = new StepBatch(async (args, mayRetry) => {
      asked.push(mayRetry)
      return ['epoch', 1, ...args.filter((arg) => arg === 'i').map((_, i) => [String(i)])]
    })
    const call = (tag: string) => ({ args: ['i', '1', tag], items: 1, bytes: tag.length })
    await batch.send(call('alone'))
    expect(asked[0]?.()).toBe(true)
    // Two runs in one tick (one listener): the first may not be sent again, the last may.
    await Promise.all(
      Array.from({ length: PIPELINE_STEPS_FROM }, (_, i) => batch.send(call(`t${i}`))),
    )
    expect(asked.slice(1).map((mayRetry) => mayRetry())).toEqual([false, true])
  })

  it('on Redis, after the server lost its scripts, fails the earlier of two runs in flight and runs the later once', async () => {
    const server = await startRedis()
    try {
      const prefix = uniquePrefix()
      const store = redisStore({ url: server.url, prefix }) as RedisStore
      open.push(createCache({ store }))
      const tap = new Redis(server.url)
      subscribers.push(tap)
      await tap.subscribe(slotKeys(prefix).bus)
      await store.invalidate(['first']) // its answer: one subscriber, so busy ticks go as two runs
      const admin = new Redis(server.url)
      await admin.script('FLUSH')
      const tags = Array.from({ length: PIPELINE_STEPS_FROM }, (_, i) => `t${i}`)
      const results = await Promise.allSettled(tags.map((tag) => store.invalidate([tag])))
      const half = PIPELINE_STEPS_FROM / 2
      // The first run failed with NOSCRIPT and was not sent again: the second had been sent after
      // it. The second, the last in flight, was sent again with its source and took its steps.
      expect(results.map((result) => result.status)).toEqual(
        tags.map((_, i) => (i < half ? 'rejected' : 'fulfilled')),
      )
      expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/NOSCRIPT/)
      const records = await admin.hgetall(slotKeys(prefix).hard)
      expect(tags.filter((tag) => records[tag] !== undefined)).toEqual(tags.slice(half))
      admin.disconnect()
    } finally {
      await Promise.all(open.splice(0).map((cache) => cache.close()))
      await server.kill()
    }
  })

  it('parses messages of one step, of many, with quiet steps, and heartbeats, and refuses malformed ones', () => {
    expect(parseBusMessage('12\ne1\nhs\nme\n10\n[["a"],["b","c"]]')).toEqual([
      { seq: 11, epoch: 'e1', kind: 'hard', tags: ['a'], origin: 'me', after: 10 },
      { seq: 12, epoch: 'e1', kind: 'soft', tags: ['b', 'c'], origin: 'me', after: 11 },
    ])
    // Quiet steps are not handed over; each step names the one published before it.
    expect(parseBusMessage('14\ne1\n-h-h\nme\n9\n[[],["a"],[],["b"]]')).toEqual([
      { seq: 12, epoch: 'e1', kind: 'hard', tags: ['a'], origin: 'me', after: 9 },
      { seq: 14, epoch: 'e1', kind: 'hard', tags: ['b'], origin: 'me', after: 12 },
    ])
    expect(parseBusMessage('12\ne1\n--\nme\n9\n[[],[]]')).toEqual([])
    expect(parseBusMessage('7\ne1\nb\nme\n5\n[]')).toEqual([
      { seq: 7, epoch: 'e1', kind: 'heartbeat', tags: [], origin: 'me', after: 5 },
    ])
    for (const bad of [
      '7\ne1\nh\nme\n6\n["a"]',
      '7\ne1\nhh\nme\n5\n[["a"]]',
      '7\ne1\nx\nme\n6\n[[]]',
      '7\ne1\nh\nme\n[["a"]]',
      '7\ne1\nh\nme\nx\n[["a"]]',
      'x',
    ]) {
      expect(parseBusMessage(bad)).toBeUndefined()
    }
  })
})
