// Bus propagation latency between two processes: how long after `invalidate()` is called in one
// process the other process has applied it (its `bus:invalidate` event). Next to it, the same
// measured for a bare ioredis PUBLISH -> SUBSCRIBE between the same two processes: the floor
// any Redis pub/sub bus stands on.
//
// Method: this process (the writer) and a forked reader share one Redis and one key prefix. The
// writer calls invalidate(tag) one at a time, with a pause of 0-2 ms between calls so messages do
// not queue; it records when each call started and resolved. The reader records when it applied
// each sequence. Both clocks are `performance.timeOrigin + performance.now()` (one machine, one
// clock). The bare pub/sub run is interleaved with cachegraph's in rounds, rotating which goes
// first. Reported: p50/p99/max from the call, and from the resolve, in ms.
//
// bentocache (L1 memory + L2 Redis + its Redis bus, `redisBusDriver`) runs in the same rotation,
// on a store name of its own (its bus channel is `bentocache.notifications:<store name>`):
// `deleteByTag({ tags: [tag] })` (its tag invalidation: it sets the tag's timestamp key, which
// the bus tells other processes to expire from their L1) and `delete({ key })`. "Applied" in the
// reader is when its bus handler has expired/deleted the key in its L1: the handler emits
// `bus:message:received` and then applies the message synchronously, so the reader takes the
// time in a microtask queued from that event, which runs right after the handler.
//
// Environment: REDIS_URL (default redis://127.0.0.1:6379), BENCH_MESSAGES (per contestant,
// default 3000), BENCH_ROUNDS (default 5). `node bus-latency.js --check` exits with 1 when the
// target (p99 from the call < 5 ms) is not met.

import { fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'

import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis'
import { createCache } from 'cachegraph'
import { redisBus, redisStore } from 'cachegraph/redis'
import { Redis } from 'ioredis'

import {
  deleteKeysContaining,
  describe,
  environment,
  ioredisOptions,
  percentile,
  positiveInt,
  writeResult,
} from './lib.js'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const MESSAGES = positiveInt(process.env.BENCH_MESSAGES, 3_000)
const ROUNDS = positiveInt(process.env.BENCH_ROUNDS, 5)
const TARGET_P99_MS = 5
const now = () => performance.timeOrigin + performance.now()

if (process.argv[2] === '--reader') await reader(process.argv[3])
else await writer()

/** A bentocache with L1 + L2 + bus, as bentocache documents multi-process setups. */
function bentoWithBus(prefix) {
  const connection = ioredisOptions(REDIS_URL)
  return new BentoCache({
    default: prefix,
    prefix,
    ttl: '10m',
    stores: {
      // The store name is the bus channel's suffix: unique, so no other bentocache hears us.
      [prefix]: bentostore()
        .useL1Layer(memoryDriver({ maxItems: 10_000 }))
        .useL2Layer(redisDriver({ connection }))
        .useBus(redisBusDriver({ connection })),
    },
  })
}

/** The id (`bt:<n>` or `bk:<n>`) a bentocache bus message is about, from its key. */
function bentoId(key) {
  return /(b[tk]:\d+|bping)$/.exec(key)?.[1]
}

/** The forked side: applies what the bus brings and reports when. */
async function reader(prefix) {
  const cache = createCache({ store: redisStore({ url: REDIS_URL, prefix }), bus: redisBus() })
  // Listen before any await: 'bus:trusted' can fire while the other connections are set up.
  const trusted = new Promise((resolve) => cache.on('bus:trusted', resolve))
  const sub = new Redis(REDIS_URL)
  const bento = bentoWithBus(prefix)
  const applied = []
  const received = []
  const bentoApplied = []
  let pinged = false
  cache.on('bus:invalidate', ({ tags }) => applied.push([tags[0], now()]))
  sub.on('message', (_channel, text) => received.push([text, now()]))
  bento.on('bus:message:received', ({ message }) => {
    const id = bentoId(message.keys[0] ?? '')
    if (id === 'bping') {
      if (!pinged) process.send({ pinged: true })
      pinged = true
      return
    }
    // The handler applies the message right after emitting this event, synchronously.
    queueMicrotask(() => bentoApplied.push([id, now()]))
  })
  await bento.get({ key: 'warm-up' }) // bentocache builds the store (and its bus) on first use
  await sub.subscribe(`${prefix}:raw`)
  await trusted
  process.send({ ready: true })
  process.on('message', async (message) => {
    if (message !== 'report') return
    process.send({
      applied: applied.splice(0),
      received: received.splice(0),
      bentoApplied: bentoApplied.splice(0),
    })
  })
  process.on('disconnect', async () => {
    await Promise.all([cache.close(), bento.disconnectAll()])
    sub.disconnect()
    process.exit(0)
  })
}

async function writer() {
  const prefix = `cgbench-bus-${process.pid}-${randomBytes(4).toString('hex')}`
  const child = fork(new URL(import.meta.url).pathname, ['--reader', prefix])
  const messages = []
  child.on('message', (message) => messages.push(message))
  const nextMessage = async () => {
    while (messages.length === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    return messages.shift()
  }
  await nextMessage() // ready

  const cache = createCache({ store: redisStore({ url: REDIS_URL, prefix }), bus: redisBus() })
  await new Promise((resolve) => cache.on('bus:trusted', resolve))
  const pub = new Redis(REDIS_URL)
  const pause = () => new Promise((resolve) => setTimeout(resolve, Math.random() * 2))
  const bento = bentoWithBus(prefix)
  await waitForBentoBus(bento, messages, nextMessage)

  const sent = {
    cachegraph: new Map(),
    raw: new Map(),
    'bentocache.deleteByTag': new Map(),
    'bentocache.delete': new Map(),
  }
  const contestants = {
    cachegraph: async (n) => {
      const tag = `t:${n}`
      const called = now()
      await cache.invalidate(tag)
      sent.cachegraph.set(tag, { called, resolved: now() })
    },
    raw: async (n) => {
      const text = `m:${n}`
      const called = now()
      await pub.publish(`${prefix}:raw`, text)
      sent.raw.set(text, { called, resolved: now() })
    },
    'bentocache.deleteByTag': async (n) => {
      const tag = `bt:${n}`
      const called = now()
      await bento.deleteByTag({ tags: [tag] })
      sent['bentocache.deleteByTag'].set(tag, { called, resolved: now() })
    },
    'bentocache.delete': async (n) => {
      const key = `bk:${n}`
      const called = now()
      await bento.delete({ key })
      sent['bentocache.delete'].set(key, { called, resolved: now() })
    },
  }
  const perRound = Math.ceil(MESSAGES / ROUNDS)
  const ids = Object.keys(contestants)
  let n = 0
  console.log(`${ROUNDS} rounds x ${perRound} messages per contestant, one at a time...`)
  for (let round = 0; round < ROUNDS; round++) {
    for (let c = 0; c < ids.length; c++) {
      const run = contestants[ids[(c + round) % ids.length]]
      for (let i = 0; i < perRound; i++) {
        await run(n++)
        await pause()
      }
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 200))
  child.send('report')
  const { applied, received, bentoApplied } = await nextMessage()

  const latencies = (arrivals, table) => {
    const fromCall = []
    const fromResolve = []
    for (const [id, at] of arrivals) {
      const t = table.get(id)
      if (t === undefined) continue
      fromCall.push(at - t.called)
      fromResolve.push(at - t.resolved)
    }
    if (fromCall.length !== table.size) {
      throw new Error(`${table.size - fromCall.length} of ${table.size} messages never arrived`)
    }
    const stats = (xs) => ({
      p50: percentile(xs, 0.5),
      p99: percentile(xs, 0.99),
      max: Math.max(...xs),
    })
    return {
      messages: fromCall.length,
      fromCallMs: stats(fromCall),
      fromResolveMs: stats(fromResolve),
    }
  }
  const result = {
    cachegraph: latencies(applied, sent.cachegraph),
    raw: latencies(received, sent.raw),
    'bentocache.deleteByTag': latencies(bentoApplied, sent['bentocache.deleteByTag']),
    'bentocache.delete': latencies(bentoApplied, sent['bentocache.delete']),
  }
  const env = environment()
  console.log(`\nbus propagation between two processes, ${describe(env)}`)
  const fmt = (x) => x.toFixed(3).padStart(8)
  console.log(`${''.padEnd(44)}     p50      p99      max   (ms)`)
  const row = (label, x) =>
    console.log(`${label.padEnd(44)}${fmt(x.p50)} ${fmt(x.p99)} ${fmt(x.max)}`)
  row('cachegraph invalidate() called -> applied', result.cachegraph.fromCallMs)
  row('cachegraph invalidate() resolved -> applied', result.cachegraph.fromResolveMs)
  row('ioredis PUBLISH called -> received', result.raw.fromCallMs)
  row('ioredis PUBLISH resolved -> received', result.raw.fromResolveMs)
  row('bentocache deleteByTag() called -> applied', result['bentocache.deleteByTag'].fromCallMs)
  row(
    'bentocache deleteByTag() resolved -> applied',
    result['bentocache.deleteByTag'].fromResolveMs,
  )
  row('bentocache delete() called -> applied', result['bentocache.delete'].fromCallMs)
  row('bentocache delete() resolved -> applied', result['bentocache.delete'].fromResolveMs)
  const met = result.cachegraph.fromCallMs.p99 < TARGET_P99_MS
  console.log(
    `\ntarget p99 (called -> applied) < ${TARGET_P99_MS} ms: ` +
      `${result.cachegraph.fromCallMs.p99.toFixed(3)} -> ${met ? 'MET' : 'NOT MET'}`,
  )
  writeResult('bus-latency', {
    benchmark: 'bus-latency',
    ...env,
    method: {
      messages: MESSAGES,
      rounds: ROUNDS,
      pauseMs: '0-2 random',
      clock: 'timeOrigin+now',
      bentocache: 'L1 memory + L2 redisDriver + redisBusDriver; applied = after its bus handler',
    },
    // Under `latencies`: a top-level `cachegraph` key would overwrite the commit from env.
    latencies: result,
    targets: [
      {
        id: `p99 called -> applied < ${TARGET_P99_MS} ms`,
        value: result.cachegraph.fromCallMs.p99,
        met,
      },
    ],
  })

  child.disconnect()
  await Promise.all([cache.close(), bento.disconnectAll()])
  const admin = new Redis(REDIS_URL)
  await deleteKeysContaining(admin, prefix)
  await Promise.all([admin.quit(), pub.quit()])
  if (process.argv.includes('--check') && !met) process.exitCode = 1
}

/**
 * bentocache gives no "subscribed" signal: publish pings until the reader has heard one, so no
 * timed message can go out before its subscription is live.
 */
async function waitForBentoBus(bento, messages, nextMessage) {
  for (let n = 0; n < 500 && messages.length === 0; n++) {
    await bento.delete({ key: 'bping' })
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  const message = await nextMessage()
  if (!message.pinged) throw new Error(`unexpected message from the reader: ${message}`)
}
