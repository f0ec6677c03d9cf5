// Fan-out: what one published message costs as the number of subscribers grows, for the
// transports a bus could use. Not a cachegraph benchmark: it measures the carriers themselves, to
// see whether any keeps a writer's cost flat in fleet size (SPEC §7: the cost of a write must
// not grow with the fleet). Contestants:
//   redis PUBLISH    one channel, every subscriber on its own connection (SUBSCRIBE)
//   redis SPUBLISH   the same with Redis 7 sharded pub/sub (SSUBSCRIBE; one node here)
//   nats publish     one subject on a NATS server, every subscriber its own connection
// at BENCH_FANOUT_SUBSCRIBERS (default `1,32,1000`) subscribers and BENCH_FANOUT_BYTES (default
// `200,3200`: one step's message, and one of a batch of 64 superseding sets) per message.
//
// Method: subscribers live in BENCH_FANOUT_HOSTS (4) forked processes (1 for a single
// subscriber), so the publisher's process does not parse their deliveries. The publisher sends
// BENCH_FANOUT_MESSAGES (1000) messages with at most 16 unanswered (Redis: replies; NATS: a
// flush, its round trip, every 16), and a run ends when every subscriber has received every
// message. Reported per contestant and size: messages/s end to end (publish to last delivery),
// and the server's CPU per message (Redis: `INFO cpu` of a redis-server of this script's own;
// NATS: utime + stime of the nats-server process, from /proc in 10 ms ticks, when it runs here),
// with BENCH_ROUNDS (3) rounds in an order that rotates, medians reported. The NATS server is
// NATS_URL (default nats://127.0.0.1:4222); without one, NATS is left out and says so.

import { fork } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

import { connect } from 'nats'
import { Redis } from 'ioredis'

import { describe, environment, median, positiveInt, writeResult } from './lib.js'
import { cpuSeconds, startPrivateRedis } from './private-redis.js'

const SUBSCRIBERS = (process.env.BENCH_FANOUT_SUBSCRIBERS ?? '1,32,1000').split(',').map(Number)
const SIZES = (process.env.BENCH_FANOUT_BYTES ?? '200,3200').split(',').map(Number)
const HOSTS = positiveInt(process.env.BENCH_FANOUT_HOSTS, 4)
const MESSAGES = positiveInt(process.env.BENCH_FANOUT_MESSAGES, 1000)
const ROUNDS = positiveInt(process.env.BENCH_ROUNDS, 3)
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222'
const WINDOW = 16
const DELIVERY_TIMEOUT_MS = 120_000
const CHANNEL = `cgbench-fanout-${process.pid}`
const KINDS = ['publish', 'spublish', 'nats']

if (process.argv[2] === '--host') host()
else await main()

/** A subscriber process: `subscribe` opens n subscriptions, `count` answers messages received. */
function host() {
  let conns = []
  let received = 0
  process.on('message', async (m) => {
    if (m.cmd === 'subscribe') {
      received = 0
      const open = async () => {
        if (m.kind === 'nats') {
          const nc = await connect({ servers: m.url })
          nc.subscribe(m.channel, { callback: () => received++ })
          // The server has the subscription once a round trip after it came back.
          await nc.flush()
          conns.push(() => nc.close())
        } else {
          const r = new Redis(m.url)
          if (m.kind === 'spublish') {
            r.on('smessage', () => received++)
            await r.ssubscribe(m.channel)
          } else {
            r.on('message', () => received++)
            await r.subscribe(m.channel)
          }
          conns.push(() => r.quit())
        }
      }
      // 50 connections at a time: 250 one after the other take seconds on a busy machine.
      for (let i = 0; i < m.n; i += 50) {
        await Promise.all(Array.from({ length: Math.min(50, m.n - i) }, open))
      }
      process.send({ id: m.id, ok: true })
    } else if (m.cmd === 'count') {
      process.send({ id: m.id, received })
    } else if (m.cmd === 'close') {
      await Promise.all(conns.map((close) => close().catch(() => {})))
      conns = []
      process.send({ id: m.id, ok: true })
    } else if (m.cmd === 'exit') {
      process.exit(0)
    }
  })
}

function spawnHost() {
  const child = fork(new URL(import.meta.url).pathname, ['--host'])
  let next = 0
  const waiting = new Map()
  child.on('message', (m) => {
    waiting.get(m.id)?.(m)
    waiting.delete(m.id)
  })
  const call = (cmd, args = {}) =>
    new Promise((resolve) => {
      const id = next++
      waiting.set(id, resolve)
      child.send({ id, cmd, ...args })
    })
  return { child, call }
}

/** The nats-server process's CPU seconds, from /proc (NaN when it does not run here). */
function natsServerPid() {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'nats-server') return Number(entry)
    } catch {
      // gone meanwhile
    }
  }
  return undefined
}

function procCpuSeconds(pid) {
  if (pid === undefined) return NaN
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  // utime and stime are fields 14 and 15 of stat; after "pid (comm) " they are 11 and 12.
  return (Number(fields[11]) + Number(fields[12])) / 100
}

async function reachable(url) {
  try {
    const nc = await connect({ servers: url, timeout: 2_000 })
    await nc.close()
    return true
  } catch {
    return false
  }
}

async function main() {
  const redis = await startPrivateRedis('fanout.js')
  const natsUp = await reachable(NATS_URL)
  const natsPid = natsUp ? natsServerPid() : undefined
  if (!natsUp) console.log(`no NATS server at ${NATS_URL}: NATS is left out`)
  const kinds = KINDS.filter((kind) => kind !== 'nats' || natsUp)
  const publisher = new Redis(redis.url)
  const nc = natsUp ? await connect({ servers: NATS_URL }) : undefined
  const results = []
  try {
    for (const subscribers of SUBSCRIBERS) {
      const hosts = Array.from({ length: Math.min(HOSTS, subscribers) }, spawnHost)
      const share = (i) =>
        Math.floor(subscribers / hosts.length) + (i < subscribers % hosts.length ? 1 : 0)
      for (const bytes of SIZES) {
        const body = 'x'.repeat(bytes)
        const rounds = Object.fromEntries(kinds.map((kind) => [kind, []]))
        for (let round = -1; round < ROUNDS; round++) {
          for (let k = 0; k < kinds.length; k++) {
            const kind = kinds[(k + Math.max(0, round)) % kinds.length]
            const channel = `${CHANNEL}-${kind}-${subscribers}-${bytes}-${round + 1}`
            const url = kind === 'nats' ? NATS_URL : redis.url
            await Promise.all(
              hosts.map((h, i) => h.call('subscribe', { kind, n: share(i), url, channel })),
            )
            const cpu =
              kind === 'nats' ? () => procCpuSeconds(natsPid) : () => cpuSeconds(redis.admin)
            const cpuBefore = await cpu()
            const started = performance.now()
            if (kind === 'nats') {
              for (let i = 0; i < MESSAGES; i++) {
                nc.publish(channel, body)
                if ((i + 1) % WINDOW === 0) await nc.flush()
              }
              await nc.flush()
            } else {
              const publish = kind === 'spublish' ? 'spublish' : 'publish'
              let inFlight = []
              for (let i = 0; i < MESSAGES; i++) {
                inFlight.push(publisher[publish](channel, body))
                if (inFlight.length === WINDOW) {
                  await Promise.all(inFlight)
                  inFlight = []
                }
              }
              await Promise.all(inFlight)
            }
            const published = performance.now()
            const expected = MESSAGES * subscribers
            const deadline = started + DELIVERY_TIMEOUT_MS
            let received = 0
            while (performance.now() < deadline) {
              const counts = await Promise.all(hosts.map((h) => h.call('count')))
              received = counts.reduce((n, c) => n + c.received, 0)
              if (received >= expected) break
              await new Promise((resolve) => setTimeout(resolve, 10))
            }
            const ended = performance.now()
            const cpuSpent = (await cpu()) - cpuBefore
            await Promise.all(hosts.map((h) => h.call('close')))
            if (round < 0) continue
            rounds[kind].push({
              messagesPerSec: (MESSAGES * 1000) / (ended - started),
              publishPerSec: (MESSAGES * 1000) / (published - started),
              serverCpuUsPerMessage: (cpuSpent * 1e6) / MESSAGES,
              delivered: received / expected,
            })
          }
        }
        for (const kind of kinds) {
          const xs = rounds[kind]
          const of = (field) => median(xs.map((x) => x[field]))
          results.push({
            kind,
            subscribers,
            bytes,
            messagesPerSec: of('messagesPerSec'),
            publishPerSec: of('publishPerSec'),
            serverCpuUsPerMessage: of('serverCpuUsPerMessage'),
            serverCpuUsPerDelivery: of('serverCpuUsPerMessage') / subscribers,
            delivered: Math.min(...xs.map((x) => x.delivered)),
            rounds: xs,
          })
        }
        console.log(`${subscribers} subscriber(s), ${bytes} B per message: done`)
      }
      await Promise.all(
        hosts.map((h) => {
          const exited = new Promise((resolve) => h.child.once('exit', resolve))
          h.child.send({ cmd: 'exit' })
          return exited
        }),
      )
    }
  } finally {
    await publisher.quit().catch(() => {})
    await nc?.close()
    await redis.stop()
  }

  const env = environment()
  console.log(
    `\nfan-out, ${MESSAGES} messages per run, ${ROUNDS} rounds; Redis ${redis.version}; ${describe(env)}`,
  )
  console.log(
    `${'transport'.padEnd(16)} ${'subs'.padStart(5)} ${'bytes'.padStart(6)} ${'msgs/s'.padStart(9)} ` +
      `${'server µs/msg'.padStart(14)} ${'µs/delivery'.padStart(12)} delivered`,
  )
  for (const r of results) {
    console.log(
      `${r.kind.padEnd(16)} ${String(r.subscribers).padStart(5)} ${String(r.bytes).padStart(6)} ` +
        `${r.messagesPerSec.toFixed(0).padStart(9)} ${r.serverCpuUsPerMessage.toFixed(1).padStart(14)} ` +
        `${r.serverCpuUsPerDelivery.toFixed(2).padStart(12)} ${(r.delivered * 100).toFixed(0)} %`,
    )
  }
  writeResult('fanout', {
    benchmark: 'fanout',
    ...env,
    redisVersion: redis.version,
    nats: natsUp ? { url: NATS_URL, serverCpu: natsPid === undefined ? 'unknown' : '/proc' } : null,
    method: {
      messages: MESSAGES,
      window: WINDOW,
      rounds: ROUNDS,
      hosts: HOSTS,
      ratio: 'medians over rounds',
      end: 'every subscriber received every message',
    },
    results,
  })
}
