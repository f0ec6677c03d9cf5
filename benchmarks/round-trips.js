// Round trips per operation: how many commands each cache sends to Redis for a get, a set, a
// read-through and a tag invalidation, counted at the server.
//
// Method: one Redis server (REDIS_URL). Every connection under measurement is named (ioredis
// `connectionName`, or CLIENT SETNAME on node-redis's connection) and found in CLIENT LIST by that
// name, which gives its address. A dedicated connection runs MONITOR, whose lines carry the
// address of the connection that sent each command (`[db addr:port]`), or `lua` for the calls a
// script makes. Each measurement is a window opened and closed by an ECHO of a unique text from a
// third connection: MONITOR reports commands in the order the server ran them, so the window holds
// exactly the commands run between the two fences. In it, the commands of the contestant's own
// connections are counted by name (its `round trips`: every command a client sends is one, also
// when pipelined, and EVALSHA is one however much its script does); the `lua` lines that follow one
// of its scripts are counted apart (`inside scripts`). cachegraph's bus heartbeats (the HEARTBEAT
// script, EVALSHA of `{P}:seq`) and membership refreshes (EVALSHA of `{P}:members`) are background traffic, not the operation's: they are counted apart
// per window, and over an idle window of 5 s for their rate. Any command that names this script's
// key prefix from a connection that is not one of the named ones fails the run: the counts would
// not be complete.
//
// Each operation runs OPS times (default 200), one awaited call at a time, each on a key of its
// own where it matters (misses, sets, read-throughs), after a warm-up of every contestant (scripts
// loaded, connections open). Reported: commands per operation (mean over the window). Every call
// is checked: hits return the value written, misses nothing, loaders run once per miss and never
// on a hit, invalidated entries miss afterwards.
//
// Every key this script writes lives under one prefix of its own (`cgbench-rt-<pid>-<random>`) and
// is deleted (SCAN + UNLINK) at the end, also when the script fails. The server is never flushed.
//
// Environment: REDIS_URL (default redis://127.0.0.1:6379), BENCH_OPS (operations per window,
// default 200).

import { randomBytes } from 'node:crypto'

import { createKeyv } from '@keyv/redis'
import { BentoCache, bentostore } from 'bentocache'
import { redisDriver } from 'bentocache/drivers/redis'
import { Cacheable } from 'cacheable'
import { createCache } from 'cachegraph'
import { redisBus, redisStore } from 'cachegraph/redis'
import { Redis } from 'ioredis'

import {
  connectOrExit,
  deleteKeysContaining,
  describe,
  environment,
  ioredisOptions,
  positiveInt,
  writeResult,
} from './lib.js'
import { commandCounter, sum } from './command-counter.js'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const OPS = positiveInt(process.env.BENCH_OPS, 200)
const DEPENDENTS = 10_000
const WRITE_CHUNK = 1_000
const IN_FLIGHT = 64
const IDLE_MS = 5_000

/** Everything this script writes to Redis, and every connection it names, starts with this. */
const PREFIX = `cgbench-rt-${process.pid}-${randomBytes(4).toString('hex')}`

/** A plain object of about 1 KB as JSON. */
function makeValue(i) {
  return { id: i, name: `Item ${i}`, price: 1000 + (i % 9000), notes: 'x'.repeat(960) }
}

/** The tags every entry gets (where tags apply): its own, a group of 100, and one for all. */
const tagsOf = (i) => [`item:${i}`, `group:${i % 100}`, 'all']

const sameValue = (a, b) => JSON.stringify(a) === JSON.stringify(b)

/** Every hit is checked: it must return the value written for entry `i`. */
function expectHit(value, i) {
  if (!sameValue(value, makeValue(i))) throw new Error(`not a hit: entry ${i}`)
}

// --- connections ------------------------------------------------------------------------------

/** The connection that fences windows, lists clients and cleans up. Fails fast without a Redis. */
const admin = new Redis(REDIS_URL, {
  lazyConnect: true,
  retryStrategy: () => null,
  connectionName: `${PREFIX}:admin`,
})
await connectOrExit(admin, 'round-trips.js', REDIS_URL)

/** Every client opened here, closed at the end. */
const closers = []

try {
  await main()
} finally {
  await Promise.allSettled(closers.map((close) => close()))
  const deleted = await deleteKeysContaining(admin, PREFIX)
  console.log(`deleted ${deleted.toLocaleString('en-US')} Redis keys under ${PREFIX}`)
  await admin.quit()
}

async function main() {
  const monitor = await admin.monitor()
  closers.push(() => monitor.disconnect())
  const counter = commandCounter(monitor, admin, PREFIX)

  // --- contestants --------------------------------------------------------------------------

  const raw = ioredis('raw')

  // cachegraph with its bus, no L1: trusted before anything is written.
  const cgClient = ioredis('cg')
  const cgBus = redisBus()
  const cg = createCache({
    ttl: '10m',
    l1: false,
    store: redisStore({ client: cgClient, prefix: `${PREFIX}-cg` }),
    bus: cgBus,
  })
  closers.push(() => cg.close())

  // The same without a bus: every read is the checking script.
  const cgPlain = createCache({
    ttl: '10m',
    l1: false,
    store: redisStore({ client: ioredis('cg-plain'), prefix: `${PREFIX}-cg-plain` }),
  })
  closers.push(() => cgPlain.close())

  // With an L1 (the default) and a bus: a warm entry is served from memory.
  const cgL1Bus = redisBus()
  const cgL1 = createCache({
    ttl: '10m',
    store: redisStore({ client: ioredis('cg-l1'), prefix: `${PREFIX}-cg-l1` }),
    bus: cgL1Bus,
  })
  closers.push(() => cgL1.close())
  await Promise.all([trusted(cg), trusted(cgL1)])

  // bentocache, its Redis driver as the only layer (no memory layer, no bus), as in l2-hit.js.
  const bento = new BentoCache({
    default: 'redis',
    prefix: `${PREFIX}-bento`,
    ttl: '10m',
    stores: {
      redis: bentostore().useL2Layer(
        redisDriver({
          connection: { ...ioredisOptions(REDIS_URL), connectionName: named('bento') },
        }),
      ),
    },
  })
  closers.push(() => bento.disconnectAll())

  // cacheable with @keyv/redis as its only store, as in l2-hit.js. Its node-redis connection is
  // named once open (CLIENT SETNAME), so that CLIENT LIST tells its address.
  const keyv = createKeyv(REDIS_URL, { namespace: `${PREFIX}-cacheable` })
  const cacheable = new Cacheable({ primary: keyv, ttl: '10m' })
  closers.push(() => cacheable.disconnect())
  const nodeRedis = await keyv.store.getClient()
  await nodeRedis.sendCommand(['CLIENT', 'SETNAME', named('cacheable')])

  // --- data ---------------------------------------------------------------------------------

  console.log(
    `writing entries (${OPS} per operation, ${DEPENDENTS.toLocaleString('en-US')} ` +
      `dependents of one tag for cachegraph and bentocache)...`,
  )
  for (let i = 0; i < OPS; i++) {
    await raw.set(`${PREFIX}:raw:hit:${i}`, JSON.stringify(makeValue(i)), 'EX', 600)
  }
  for (const cache of [cg, cgPlain]) await writeCachegraph(cache)
  for (let i = 0; i < OPS; i++) await cgL1.set(`hit:${i}`, makeValue(i), { tags: tagsOf(i) })
  await writeBento(bento)
  for (let i = 0; i < OPS; i++) await cacheable.set(`hit:${i}`, makeValue(i))

  // --- operations ---------------------------------------------------------------------------

  const loads = { count: 0 }
  const loader = (i) => () => {
    loads.count++
    return makeValue(i)
  }
  const suites = [
    {
      contestant: 'ioredis',
      names: [named('raw')],
      operations: [
        op('get hit', async (i) => {
          expectHit(JSON.parse(await raw.get(`${PREFIX}:raw:hit:${i}`)), i)
        }),
        op('set', (i) =>
          raw.set(`${PREFIX}:raw:set:${i}`, JSON.stringify(makeValue(i)), 'EX', 600),
        ),
      ],
    },
    {
      contestant: 'cachegraph',
      names: [named('cg'), cgBus.clientName],
      operations: cachegraphOperations(cg, loader, loads),
    },
    {
      contestant: 'cachegraph (no bus)',
      names: [named('cg-plain')],
      operations: cachegraphOperations(cgPlain, loader, loads),
    },
    {
      contestant: 'cachegraph (L1)',
      names: [named('cg-l1'), cgL1Bus.clientName],
      operations: [
        op(
          'get hit',
          async (i) => {
            expectHit(await cgL1.get(`hit:${i}`), i)
          },
          'L1 and bus (the defaults), entries with 3 tags read once before (warm)',
        ),
      ],
    },
    {
      contestant: 'bentocache',
      names: [named('bento')],
      operations: bentoOperations(bento, loader, loads),
    },
    {
      contestant: 'cacheable',
      names: [named('cacheable')],
      operations: [
        op('get hit', async (i) => {
          expectHit(await cacheable.get(`hit:${i}`), i)
        }),
        op('set', async (i) => {
          if (!(await cacheable.set(`set:${i}`, makeValue(i)))) throw new Error('not stored')
        }),
        readThrough('getOrSet miss', loads, 1, (i) =>
          cacheable.getOrSet(`gos:${i}`, async () => loader(i)()),
        ),
        readThrough('getOrSet hit', loads, 0, (i) =>
          cacheable.getOrSet(`gos:${i}`, async () => loader(i)()),
        ),
      ],
    },
  ]

  // Warm-up, not counted: scripts loaded on the server (EVALSHA, not EVAL), connections open,
  // cachegraph's eviction-policy check done, every L1 entry read once. On keys of their own.
  await warmUp({ raw, cg, cgPlain, cgL1, bento, cacheable })

  const clients = await namedClients()
  const addressesOf = (names) => {
    const found = names.map((name) => clients.get(name))
    if (found.some((addr) => addr === undefined)) {
      throw new Error(`not every connection of ${names.join(', ')} is in CLIENT LIST`)
    }
    return new Set(found)
  }
  counter.know(new Set(clients.values()))

  const started = Date.now()
  const operations = []
  for (const suite of suites) {
    const addresses = addressesOf(suite.names)
    for (const operation of suite.operations) {
      await operation.before?.()
      const window = await counter.measure(addresses, async () => {
        for (let i = 0; i < OPS; i++) await operation.run(i)
      })
      await operation.after?.()
      operations.push(record(suite.contestant, operation, window))
    }
  }

  // cachegraph's bus heartbeats while nothing happens (one cache, one process).
  const idle = await counter.measure(
    addressesOf([named('cg'), cgBus.clientName]),
    () => new Promise((resolve) => setTimeout(resolve, IDLE_MS)),
  )
  const heartbeats = sum(idle.background)
  const background = {
    contestant: 'cachegraph',
    idleMs: IDLE_MS,
    heartbeatsPerSecond: heartbeats / (IDLE_MS / 1000),
    commands: idle.background,
    scriptCalls: idle.backgroundScripts,
    otherCommands: idle.commands,
  }
  const seconds = (Date.now() - started) / 1000
  if (counter.strays.length > 0) {
    throw new Error(
      `commands on this script's keys from unnamed connections (counts incomplete): ` +
        counter.strays.slice(0, 5).join('; '),
    )
  }

  // --- report -------------------------------------------------------------------------------

  const env = environment()
  const redis = redisVersion(await admin.info('server'))
  console.log()
  console.log(
    `Redis round trips per operation (commands received by the server, MONITOR), Redis ${redis} ` +
      `at ${new URL(REDIS_URL).host}; ${OPS} operations per row, one at a time; ${seconds.toFixed(1)} s`,
  )
  console.log(describe(env))
  printTable(operations)
  console.log()
  console.log(
    `cachegraph bus heartbeats and membership refreshes while idle: ${background.heartbeatsPerSecond.toFixed(1)}/s ` +
      `(${heartbeats} in ${IDLE_MS} ms; ${formatCounts(idle.background)}; inside: ` +
      `${formatCounts(idle.backgroundScripts)}); other commands meanwhile: ` +
      `${formatCounts(idle.commands) || 'none'}`,
  )

  writeResult('round-trips', {
    benchmark: 'round-trips',
    ...env,
    redis,
    method: {
      counting:
        'MONITOR on a dedicated connection; commands from the named connections of the ' +
        'contestant between two ECHO fences; script-internal (lua) calls counted apart; ' +
        'cachegraph bus heartbeats counted apart (background)',
      opsPerOperation: OPS,
      oneAtATime: true,
      dependents: DEPENDENTS,
      tagsPerEntry: 3,
      valueBytes: JSON.stringify(makeValue(0)).length,
    },
    operations,
    background,
  })
}

// --- counting ---------------------------------------------------------------------------------

/** Counts per operation, rounded to 2 decimals (they should be whole numbers). */
function perOperation(counts) {
  return Object.fromEntries(
    Object.entries(counts).map(([name, n]) => [name, Math.round((n / OPS) * 100) / 100]),
  )
}

function record(contestant, operation, window) {
  const result = {
    contestant,
    operation: operation.name,
    roundTrips: Math.round((sum(window.commands) / OPS) * 100) / 100,
    commands: perOperation(window.commands),
  }
  if (sum(window.scriptCalls) > 0) result.scriptCalls = perOperation(window.scriptCalls)
  if (sum(window.background) > 0) {
    // Per window, not per operation: they happen on a timer, whatever the operations.
    result.background = { heartbeats: sum(window.background), windowMs: window.ms }
  }
  if (operation.note !== undefined) result.note = operation.note
  return result
}

/** Name → address of every connection whose name this script gave (CLIENT LIST). */
async function namedClients() {
  const list = await admin.client('LIST')
  const clients = new Map()
  for (const line of list.split('\n')) {
    const fields = Object.fromEntries(
      line
        .trim()
        .split(' ')
        .map((field) => [field.slice(0, field.indexOf('=')), field.slice(field.indexOf('=') + 1)]),
    )
    if (fields.name?.startsWith(PREFIX) || fields.name?.startsWith('cachegraph-bus-')) {
      clients.set(fields.name, fields.addr)
    }
  }
  return clients
}

// --- contestants and their operations -------------------------------------------------------

/** The client name this script gives its connection `name`. */
function named(name) {
  return `${PREFIX}:${name}`
}

/** A new ioredis connection named `named(name)`, closed at the end. */
function ioredis(name) {
  const client = new Redis(REDIS_URL, { connectionName: named(name) })
  closers.push(() => client.quit())
  return client
}

function trusted(cache) {
  return new Promise((resolve) => cache.on('bus:trusted', resolve))
}

function op(name, run, note) {
  return { name, run, note }
}

/** A read-through: `call(i)` must return the value of `i`, running the loader `loadsEach` times. */
function readThrough(name, loads, loadsEach, call, note) {
  let before
  return {
    name,
    note,
    before: () => (before = loads.count),
    run: async (i) => {
      if (!sameValue(await call(i), makeValue(i))) throw new Error(`${name}: wrong value`)
    },
    after: () => {
      if (loads.count - before !== loadsEach * OPS) {
        throw new Error(`${name}: ${loads.count - before} loads for ${OPS} calls`)
      }
    },
  }
}

/** Entries of a cachegraph cache: hits, one dependent per `solo:<i>` tag, DEPENDENTS of 'many'. */
async function writeCachegraph(cache) {
  for (let i = 0; i < OPS; i++) {
    if (!(await cache.set(`hit:${i}`, makeValue(i), { tags: tagsOf(i) }))) {
      throw new Error(`cachegraph did not store hit:${i}`)
    }
    await cache.set(`solo:${i}`, makeValue(i), { tags: [`solo:${i}`, `group:${i % 100}`, 'all'] })
  }
  for (let start = 0; start < DEPENDENTS; start += WRITE_CHUNK) {
    const entries = []
    for (let i = start; i < Math.min(DEPENDENTS, start + WRITE_CHUNK); i++) {
      entries.push({ key: `many:${i}`, value: { id: i }, tags: ['many', `item:${i}`] })
    }
    if (!(await cache.setMany(entries)).every(Boolean)) throw new Error('setMany did not store')
  }
}

function cachegraphOperations(cache, loader, loads) {
  return [
    op(
      'get hit',
      async (i) => {
        expectHit(await cache.get(`hit:${i}`), i)
      },
      'entries with 3 tags',
    ),
    op('get miss', async (i) => {
      if ((await cache.get(`missing:${i}`)) !== undefined) throw new Error('not a miss')
    }),
    op(
      'set (3 tags)',
      async (i) => {
        if (!(await cache.set(`set:${i}`, makeValue(i), { tags: tagsOf(i) }))) {
          throw new Error('not stored')
        }
      },
      'a new key each',
    ),
    readThrough(
      'getOrSet miss',
      loads,
      1,
      (i) => cache.getOrSet(`gos:${i}`, loader(i), { tags: tagsOf(i) }),
      'load + write, 3 tags',
    ),
    readThrough('getOrSet hit', loads, 0, (i) =>
      cache.getOrSet(`gos:${i}`, loader(i), { tags: tagsOf(i) }),
    ),
    op('invalidate (1 dependent)', (i) => cache.invalidate(`solo:${i}`), 'a tag of its own each'),
    op(
      `invalidate (${DEPENDENTS.toLocaleString('en-US')} dependents)`,
      () => cache.invalidate('many'),
      `the same tag each time, ${DEPENDENTS.toLocaleString('en-US')} entries depend on it`,
    ),
    op(
      'get after invalidate',
      async (i) => {
        if ((await cache.get(`solo:${i}`)) !== undefined) throw new Error('still a hit')
      },
      'the first read of an entry whose tag was invalidated: a miss',
    ),
  ]
}

/** bentocache entries, as for cachegraph (bentocache's tags: `set({ key, value, tags })`). */
async function writeBento(bento) {
  for (let i = 0; i < OPS; i++) {
    await bento.set({ key: `hit:${i}`, value: makeValue(i), tags: tagsOf(i) })
    await bento.set({ key: `plain:${i}`, value: makeValue(i) })
    await bento.set({
      key: `solo:${i}`,
      value: makeValue(i),
      tags: [`solo:${i}`, `group:${i % 100}`, 'all'],
    })
  }
  let next = 0
  const worker = async () => {
    while (next < DEPENDENTS) {
      const i = next++
      await bento.set({ key: `many:${i}`, value: { id: i }, tags: ['many', `item:${i}`] })
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
}

function bentoOperations(bento, loader, loads) {
  return [
    op(
      'get hit',
      async (i) => {
        expectHit(await bento.get({ key: `hit:${i}` }), i)
      },
      'entries with 3 tags (each read checks every tag)',
    ),
    op(
      'get hit (no tags)',
      async (i) => {
        expectHit(await bento.get({ key: `plain:${i}` }), i)
      },
      'entries set without tags',
    ),
    op('get miss', async (i) => {
      if ((await bento.get({ key: `missing:${i}` })) !== undefined) throw new Error('not a miss')
    }),
    op(
      'set (3 tags)',
      async (i) => {
        if (!(await bento.set({ key: `set:${i}`, value: makeValue(i), tags: tagsOf(i) }))) {
          throw new Error('not stored')
        }
      },
      'a new key each',
    ),
    readThrough(
      'getOrSet miss',
      loads,
      1,
      (i) => bento.getOrSet({ key: `gos:${i}`, factory: loader(i), tags: tagsOf(i) }),
      'load + write, 3 tags',
    ),
    readThrough('getOrSet hit', loads, 0, (i) =>
      bento.getOrSet({ key: `gos:${i}`, factory: loader(i), tags: tagsOf(i) }),
    ),
    op(
      'invalidate (1 dependent)',
      (i) => bento.deleteByTag({ tags: [`solo:${i}`] }),
      'deleteByTag, a tag of its own each',
    ),
    op(
      `invalidate (${DEPENDENTS.toLocaleString('en-US')} dependents)`,
      () => bento.deleteByTag({ tags: ['many'] }),
      `deleteByTag, the same tag each time, ${DEPENDENTS.toLocaleString('en-US')} entries depend on it`,
    ),
    op(
      'get after invalidate',
      async (i) => {
        if ((await bento.get({ key: `solo:${i}` })) !== undefined) throw new Error('still a hit')
      },
      'the first read after deleteByTag: bentocache invalidates lazily, on this read',
    ),
  ]
}

/** One call of each kind per contestant, on keys no window uses. */
async function warmUp({ raw, cg, cgPlain, cgL1, bento, cacheable }) {
  const value = makeValue(0)
  await raw.set(`${PREFIX}:raw:warm`, JSON.stringify(value))
  await raw.get(`${PREFIX}:raw:warm`)
  for (const cache of [cg, cgPlain]) {
    await cache.set('warm', value, { tags: ['warm'] })
    await cache.get('warm')
    await cache.get('warm-missing')
    await cache.getOrSet('warm-gos', () => value)
    await cache.invalidate('warm')
  }
  for (let i = 0; i < OPS; i++) {
    expectHit(await cgL1.get(`hit:${i}`), i)
  }
  await bento.set({ key: 'warm', value, tags: ['warm'] })
  await bento.get({ key: 'warm' })
  await bento.deleteByTag({ tags: ['warm'] })
  await bento.get({ key: 'warm' })
  await cacheable.set('warm', value)
  await cacheable.get('warm')
}

// --- report -----------------------------------------------------------------------------------

function formatCount(n) {
  return Number.isInteger(n) ? String(n) : n.toFixed(2)
}

function formatCounts(counts) {
  return Object.entries(counts)
    .map(([name, n]) => `${name} ${formatCount(n)}`)
    .join(', ')
}

function printTable(operations) {
  console.log()
  console.log(
    `${'contestant'.padEnd(20)} ${'operation'.padEnd(30)} ${'round trips'.padStart(11)}  ` +
      `${'commands'.padEnd(22)} inside scripts`,
  )
  let last
  for (const o of operations) {
    const contestant = o.contestant === last ? '' : o.contestant
    last = o.contestant
    const background = o.background ? ` (+${o.background.heartbeats} heartbeat in window)` : ''
    console.log(
      `${contestant.padEnd(20)} ${o.operation.padEnd(30)} ${formatCount(o.roundTrips).padStart(11)}  ` +
        `${(formatCounts(o.commands) || '-').padEnd(22)} ${formatCounts(o.scriptCalls ?? {})}${background}`,
    )
  }
}

function redisVersion(info) {
  return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown'
}
