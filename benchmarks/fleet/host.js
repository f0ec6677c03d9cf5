// One process of the fleet of `fleet.js`: forked by it with `--host`, it hosts members (caches
// of its own, each with its own bus connection) and does what the coordinator asks over IPC.

import { createCache } from 'cachegraph'
import { redisBus, redisStore } from 'cachegraph/redis'
import { Redis } from 'ioredis'

import { runFor } from '../lib.js'

/** Calls in flight per writing process. */
export const IN_FLIGHT = 64
/** Bytes of each value's JSON. */
export const VALUE_BYTES = 1024
/** How long a member may take to trust its bus. */
export const TRUST_TIMEOUT_MS = 30_000
/** A call of a member that has not settled after this long is given up on (and counted). */
export const OP_TIMEOUT_MS = 5_000
const START_BATCH = 25
const TIMED_OUT = Symbol('timed out')

const now = () => performance.timeOrigin + performance.now()
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** `promise`, or TIMED_OUT once `ms` have passed without it settling. */
function within(promise, ms = OP_TIMEOUT_MS) {
  let timer
  const timeout = new Promise((resolve) => (timer = setTimeout(resolve, ms, TIMED_OUT)))
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** A plain object whose JSON is exactly VALUE_BYTES long. */
function makeValue(n) {
  const value = { id: n, name: `Item ${n}`, price: 1000 + (n % 9000), notes: '' }
  value.notes = 'x'.repeat(VALUE_BYTES - JSON.stringify(value).length)
  return value
}

/** One process of the fleet: hosts `caches` members and does what the coordinator asks. */
function host() {
  let caches = []
  let client
  let raw
  let recording = false
  let arrivals = []

  const commands = {
    async start({ url, prefix, count }) {
      client = new Redis(url)
      raw = new Redis(url)
      // Members join START_BATCH at a time, as a fleet grows, each reading once.
      for (let c = 0; c < count; c++) {
        const cache = createCache({
          ttl: '10m',
          store: redisStore({ client, prefix }),
          bus: redisBus(),
        })
        cache.on('bus:invalidate', ({ tags }) => {
          if (recording) arrivals.push([c, tags[0], now()])
        })
        caches.push(cache)
        if (caches.length % START_BATCH === 0 || c === count - 1) {
          await Promise.all(caches.slice(-START_BATCH).map((x) => x.get('warm-up')))
        }
      }
      const deadline = Date.now() + TRUST_TIMEOUT_MS
      const trusted = () => caches.filter((cache) => cache.stats().bus?.trusted).length
      while (trusted() < count && Date.now() < deadline) await sleep(20)
      return { trusted: trusted() }
    },
    record() {
      arrivals = []
      recording = true
    },
    arrivals() {
      recording = false
      const out = arrivals
      arrivals = []
      return out
    },
    /** Invalidations one at a time, up to `count` or `maxMs`; those that threw are counted. */
    async propagate({ run, count, maxMs }) {
      const sent = []
      let failed = 0
      let timedOut = false
      const started = Date.now()
      for (let n = 0; n < count && Date.now() - started < maxMs; n++) {
        const tag = `p:${run}:${n}`
        const called = now()
        try {
          if ((await within(caches[0].invalidate(tag))) === TIMED_OUT) {
            timedOut = true
            break
          }
          sent.push([tag, called])
        } catch {
          failed++
        }
        await sleep(Math.random() * 2)
      }
      return { sent, failed, timedOut }
    },
    /** Every member reads once (an idle one wakes and joins again); resolves once all trust. */
    async wake() {
      for (let c = 0; c < caches.length; c += START_BATCH) {
        await Promise.all(caches.slice(c, c + START_BATCH).map((x) => x.get('warm-up')))
      }
      const deadline = Date.now() + TRUST_TIMEOUT_MS
      const awake = () => caches.filter((cache) => cache.stats().bus?.trusted).length
      while (awake() < caches.length && Date.now() < deadline) await sleep(20)
      return { awake: awake() }
    },
    /** The wake's burst of joins may have opened the store's circuit: waits until it records. */
    async untilRecording({ run }) {
      const records = () =>
        caches[0].invalidate(`a:${run}:ready`).then(
          () => true,
          () => false,
        )
      const until = Date.now() + TRUST_TIMEOUT_MS
      while (Date.now() < until && (await within(records())) !== true) await sleep(100)
    },
    /** Acknowledged invalidations one at a time, up to `count` or `maxMs`. */
    async acked({ run, count, maxMs }) {
      const calls = []
      let failed = 0
      let firstError
      let timedOut = false
      const started = Date.now()
      for (let n = 0; n < count && Date.now() - started < maxMs; n++) {
        const t0 = performance.now()
        try {
          const result = await within(caches[0].invalidate(`a:${run}:${n}`, { ack: true }))
          if (result === TIMED_OUT) {
            timedOut = true
            break
          }
          calls.push({
            ms: performance.now() - t0,
            members: result.fleet?.members,
            acked: result.fleet?.acked,
            late: result.fleet?.late?.length,
          })
        } catch (error) {
          failed++
          firstError ??= error?.code ?? String(error?.message ?? error)
        }
      }
      return { calls, failed, timedOut, firstError }
    },
    /**
     * Sets of new keys (or raw SETs) at IN_FLIGHT for `ms`, through every cache in turn; with
     * `deletes`, deletes of keys nobody cached (or raw DELs) instead.
     */
    async write({ mode, marker, ms, only, deletes }) {
      const targets = only ? [caches[0]] : caches
      let notStored = 0
      const write = deletes
        ? mode === 'raw'
          ? (n) => raw.del(`${marker}${n}`)
          : (n) => within(targets[n % targets.length].delete(`${marker}${n}`))
        : mode === 'raw'
          ? (n) => raw.set(`${marker}${n}`, JSON.stringify(makeValue(n)), 'EX', 600)
          : async (n) => {
              const key = `${marker}${n}`
              const cache = targets[n % targets.length]
              const tags = [`item:${key}`, `group:${n % 100}`, 'all']
              // A set that has not settled within OP_TIMEOUT_MS counts as not stored.
              if ((await within(cache.set(key, makeValue(n), { tags }))) !== true) notStored++
            }
      return { ...(await runFor(ms, IN_FLIGHT, write)), notStored }
    },
    /** This process's CPU time so far (user + system), in µs. */
    cpu() {
      const { user, system } = process.cpuUsage()
      return user + system
    },
    async close() {
      await within(Promise.all(caches.map((cache) => cache.close())))
      await within(Promise.all([client.quit(), raw.quit()]))
      setImmediate(() => process.exit(0))
    },
  }

  process.on('message', async ({ id, cmd, args }) => {
    try {
      process.send({ id, result: (await commands[cmd](args)) ?? null })
    } catch (error) {
      process.send({ id, error: error.stack ?? String(error) })
    }
  })
  process.on('disconnect', () => process.exit(0))
  process.send({ ready: true })
}

if (process.argv[2] === '--host') host()
