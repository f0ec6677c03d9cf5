// Fleet size: what the bus and the sequence cost as the number of processes sharing one Redis
// grows. Fleets of 1, 8 and 32 real (forked) processes with one cache each, and 1,000 members
// simulated as 4 processes hosting 250 caches each (every cache a member of its own: its own bus
// connection, its own membership). Per fleet:
//   - idle: Redis commands/s while nobody does anything, in total and per member;
//   - bus propagation: one member invalidates one tag at a time; ms from the call to applied
//     (`bus:invalidate`) in every other member, p50/p99/max, and until the whole fleet applied;
//   - acknowledged invalidation: `invalidate(tag, { ack: true })` one at a time, after every
//     member read once (so all are awake and listed, as in a fleet that serves); Redis commands
//     and Redis CPU per call (net of the idle background, so the awake members' heartbeats and
//     joins count too: `byCommandPerCall` separates the answers), latency, members that answered.
//     The two are measured in 4 interleaved rounds, a block of each per round
//     (`fleet/latency.js`): the acknowledged p99 is held against the bus's;
//   - one writer: `set` of new keys at 64 in flight from one member while the others listen,
//     against raw ioredis `SET` from the same process in the same rounds; sets/s, ratio, Redis
//     CPU and commands per set, and the CPU time per set of the writing process and of the
//     listening ones together (`process.cpuUsage()` of each, over IPC, around the run);
//   - whole fleet writing: every process at 64 in flight at once (cachegraph `set`, then raw
//     `SET`); sets/s of the fleet, Redis CPU per set.
//
// The processes of the fleet run `fleet/host.js`; the latency phases are `fleet/latency.js`; what
// is printed per fleet is `fleet/print.js`.
//
// Method: a Redis server of this script's own (private-redis.js: free port, no persistence), so
// its counters count this fleet alone and 127.0.0.1:6379 is not disturbed. Redis figures are
// `INFO commandstats` deltas (commands inside scripts included) and `INFO cpu` (sys + user)
// deltas. Each process reports to this one over IPC; times are `performance.timeOrigin +
// performance.now()` (one machine, one clock). Members are created with `createCache({ ttl:
// '10m', store: redisStore({ client, prefix }), bus: redisBus() })` (one store connection per
// process, one bus connection per cache), each reads once and is waited for until its bus
// trusts (stats().bus.trusted, at most 30 s) before anything is measured.
//
// Environment: BENCH_FLEET (default `1,8,32,1000`: a number up to 64 is that many processes; a
// larger one is simulated in BENCH_FLEET_HOSTS processes, default 4), BENCH_IDLE_SECONDS (5),
// BENCH_SETTLE_SECONDS (2), BENCH_MESSAGES (200 bus messages per fleet), BENCH_ACKS (200
// acknowledged invalidations, at most 10 s), BENCH_ROUNDS (3 write rounds), BENCH_ROUND_MS (1000
// per contestant per round). `node fleet.js --check` exits with 1 when a SPEC §7 target measured
// here is not met.

import { fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'

import {
  deleteKeysContaining,
  describe,
  environment,
  median,
  positiveInt,
  writeResult,
} from './lib.js'
import { serverDelta, serverSnapshot, startPrivateRedis } from './private-redis.js'
import { ackTargets } from './report/targets.js'
import { IN_FLIGHT, TRUST_TIMEOUT_MS, VALUE_BYTES } from './fleet/host.js'
import { f2, printFleet } from './fleet/print.js'
import { LATENCY_ROUNDS, measureLatencies } from './fleet/latency.js'

const FLEETS = (process.env.BENCH_FLEET ?? '1,8,32,1000').split(',').map(Number)
const HOSTS = positiveInt(process.env.BENCH_FLEET_HOSTS, 4)
const MAX_REAL = 64
const IDLE_SECONDS = positiveInt(process.env.BENCH_IDLE_SECONDS, 5)
const SETTLE_SECONDS = positiveInt(process.env.BENCH_SETTLE_SECONDS, 2)
const MESSAGES = positiveInt(process.env.BENCH_MESSAGES, 200)
const ACKS = positiveInt(process.env.BENCH_ACKS, 200)
const ACK_MAX_MS = 10_000
const ROUNDS = positiveInt(process.env.BENCH_ROUNDS, 3)
const ROUND_MS = positiveInt(process.env.BENCH_ROUND_MS, 1_000)
/** The share of members that must trust their bus for a fleet to count as formed. */
const FORMED = 0.9
const PROPAGATION_MAX_MS = 15_000
/** No call to a fleet process may take longer than this (the benchmark fails instead). */
const CALL_TIMEOUT_MS = 180_000
const TARGETS = { idlePerMember: 1, writeVsRaw: 0.5 }

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
// --- the coordinator --------------------------------------------------------------------------

/** A forked host process with `call(cmd, args)` over IPC. */
async function spawnHost() {
  const child = fork(new URL('./fleet/host.js', import.meta.url).pathname, ['--host'])
  const pending = new Map()
  let nextId = 0
  child.on('message', (message) => {
    const wait = pending.get(message.id)
    if (!wait) return
    pending.delete(message.id)
    if (message.error) wait.reject(new Error(`host ${child.pid}: ${message.error}`))
    else wait.resolve(message.result)
  })
  child.on('exit', (code) => {
    for (const wait of pending.values())
      wait.reject(new Error(`host ${child.pid} exited (${code})`))
    pending.clear()
  })
  await new Promise((resolve, reject) => {
    child.once('message', resolve)
    child.once('error', reject)
  })
  return {
    child,
    call(cmd, args) {
      const id = nextId++
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id)
          reject(new Error(`host ${child.pid}: ${cmd} took over ${CALL_TIMEOUT_MS} ms`))
        }, CALL_TIMEOUT_MS)
        const done = (settle) => (value) => {
          clearTimeout(timer)
          settle(value)
        }
        pending.set(id, { resolve: done(resolve), reject: done(reject) })
        child.send({ id, cmd, args })
      })
    },
  }
}

/** Real processes up to MAX_REAL; past that, HOSTS processes sharing the members. */
function shapeOf(members) {
  if (members <= MAX_REAL) return { members, hosts: members, caches: Array(members).fill(1) }
  const hosts = Math.min(HOSTS, members)
  const caches = Array.from(
    { length: hosts },
    (_, h) => Math.floor(members / hosts) + (h < members % hosts ? 1 : 0),
  )
  return { members, hosts, caches }
}

function labelOf(shape) {
  const n = shape.members.toLocaleString('en-US')
  if (shape.hosts === shape.members) return `${n} process${shape.members === 1 ? '' : 'es'}`
  return `${n} members (${shape.hosts} processes × ${Math.round(shape.members / shape.hosts)} caches)`
}

async function coordinator() {
  const redis = await startPrivateRedis('fleet.js')
  const hosts = []
  const fleets = []
  // Also on a signal or a crash: no fleet process outlives this one.
  process.on('exit', () => hosts.forEach((h) => h.child.exitCode === null && h.child.kill()))
  try {
    for (const members of FLEETS) {
      if (!Number.isInteger(members) || members < 1) throw new Error(`BENCH_FLEET: ${members}?`)
      fleets.push(await measureFleet(redis, shapeOf(members), hosts))
    }
  } finally {
    for (const h of hosts) if (h.child.exitCode === null) h.child.kill()
    await redis.stop()
  }
  report(redis, fleets)
}

async function measureFleet(redis, shape, all) {
  const label = labelOf(shape)
  const prefix = `cgbench-fleet-${shape.members}-${randomBytes(4).toString('hex')}`
  const run = randomBytes(3).toString('hex')
  const admin = redis.admin
  const fleet = { label, members: shape.members, hosts: shape.hosts }
  console.log(`\n${label}: starting...`)
  const started = performance.now()
  const hosts = await Promise.all(shape.caches.map(() => spawnHost()))
  all.push(...hosts)
  const starts = await Promise.all(
    hosts.map((h, i) => h.call('start', { url: redis.url, prefix, count: shape.caches[i] })),
  )
  fleet.startSeconds = (performance.now() - started) / 1000
  fleet.trusted = starts.reduce((n, s) => n + s.trusted, 0)
  console.log(
    `  up in ${fleet.startSeconds.toFixed(1)} s, ${fleet.trusted} of ${shape.members} trusted; ` +
      `${SETTLE_SECONDS} s to settle, ${IDLE_SECONDS} s idle...`,
  )

  // Idle.
  await sleep(SETTLE_SECONDS * 1000)
  const idleBefore = await serverSnapshot(admin)
  await sleep(IDLE_SECONDS * 1000)
  const idle = serverDelta(idleBefore, await serverSnapshot(admin))
  fleet.idle = {
    seconds: idle.seconds,
    commandsPerSecond: idle.total / idle.seconds,
    perMember: idle.total / idle.seconds / shape.members,
    byCommandPerSecond: Object.fromEntries(
      Object.entries(idle.commands).map(([name, n]) => [name, n / idle.seconds]),
    ),
    redisCpuMsPerSecond: (idle.cpuSeconds * 1000) / idle.seconds,
    /** µs of Redis CPU per call, by command: a PUBLISH costs more the more subscribers hear it. */
    usPerCall: idle.usPerCall,
  }
  /** A window's commands and CPU less the idle background over the same time. */
  const net = (delta) => ({
    commands: delta.total - fleet.idle.commandsPerSecond * delta.seconds,
    cpuSeconds: delta.cpuSeconds - (fleet.idle.redisCpuMsPerSecond / 1000) * delta.seconds,
  })

  // A fleet most of whose members never came to trust their bus did not form: what the active
  // phases would measure is that saturation, not the bus. Its idle traffic is then the figure.
  if (fleet.trusted < shape.members * FORMED) {
    fleet.skipped =
      `${shape.members - fleet.trusted} of ${shape.members} members did not trust their bus ` +
      `within ${TRUST_TIMEOUT_MS / 1000} s: propagation, acknowledged invalidations and writes ` +
      'not measured'
    console.log(`  ${fleet.skipped}`)
  } else {
    await activePhases()
  }

  async function activePhases() {
    const writer = hosts[0]
    const latencies = await measureLatencies({
      hosts,
      writer,
      run,
      members: shape.members,
      admin,
      net,
      limits: {
        messages: MESSAGES,
        acks: ACKS,
        propagationMaxMs: PROPAGATION_MAX_MS,
        ackMaxMs: ACK_MAX_MS,
      },
    })
    if (latencies.propagation !== undefined) fleet.propagation = latencies.propagation
    fleet.acked = latencies.acked

    /** One timed write run on `on` hosts; sets/s of them together and what Redis did per set. */
    async function writeRun(on, mode, round, only, deletes) {
      const marker = `${prefix}-w${round}-${mode}-${on.length}${deletes ? 'd' : ''}:`
      const cpuBefore = await Promise.all(hosts.map((h) => h.call('cpu')))
      const before = await serverSnapshot(admin)
      const done = await Promise.all(
        on.map((h, i) =>
          h.call('write', { mode, marker: `${marker}${i}:`, ms: ROUND_MS, only, deletes }),
        ),
      )
      const delta = serverDelta(before, await serverSnapshot(admin))
      const cpuAfter = await Promise.all(hosts.map((h) => h.call('cpu')))
      // CPU time of the processes that wrote and of those that only listened, over the run.
      const cpuOf = (writing) =>
        hosts.reduce(
          (us, h, i) => (on.includes(h) === writing ? us + cpuAfter[i] - cpuBefore[i] : us),
          0,
        )
      await deleteKeysContaining(admin, marker)
      // Sets that resolved false (not stored: a shared-tier failure, say) do not count.
      const notStored = done.reduce((n, x) => n + (x.notStored ?? 0), 0)
      const ops = done.reduce((n, x) => n + x.ops, 0) - notStored
      const d = net(delta)
      return {
        opsPerSec: done.reduce((n, x) => n + (x.ops - (x.notStored ?? 0)) / x.seconds, 0),
        notStored,
        // Too few sets to stand out from the idle background: no figure rather than a wrong one.
        commandsPerSet: ops > 0 && d.commands > 0 ? d.commands / ops : NaN,
        redisCpuUsPerSet: ops > 0 && d.cpuSeconds > 0 ? (d.cpuSeconds * 1e6) / ops : NaN,
        writersCpuUsPerSet: ops > 0 ? cpuOf(true) / ops : NaN,
        listenersCpuUsPerSet: ops > 0 && on.length < hosts.length ? cpuOf(false) / ops : NaN,
      }
    }

    async function writeRounds(on, only, what, deletes = false) {
      console.log(`  ${what}: ${ROUNDS} rounds (+1 warm-up) x ${ROUND_MS} ms per contestant...`)
      const rounds = []
      for (let round = -1; round < ROUNDS; round++) {
        const modes = round % 2 === 0 ? ['cachegraph', 'raw'] : ['raw', 'cachegraph']
        const x = {}
        for (const mode of modes) x[mode] = await writeRun(on, mode, round + 1, only, deletes)
        if (round >= 0) rounds.push({ ...x, ratio: x.cachegraph.opsPerSec / x.raw.opsPerSec })
      }
      const ratios = rounds.map((r) => r.ratio)
      const of = (mode, field) => median(rounds.map((r) => r[mode][field]).filter(Number.isFinite))
      return {
        setsPerSec: { cachegraph: of('cachegraph', 'opsPerSec'), raw: of('raw', 'opsPerSec') },
        notStored: rounds.reduce((n, r) => n + r.cachegraph.notStored, 0),
        ratio: { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) },
        perSet: Object.fromEntries(
          ['cachegraph', 'raw'].map((mode) => [
            mode,
            {
              commands: of(mode, 'commandsPerSet'),
              redisCpuUs: of(mode, 'redisCpuUsPerSet'),
              writersCpuUs: of(mode, 'writersCpuUsPerSet'),
              listenersCpuUs: of(mode, 'listenersCpuUsPerSet'),
            },
          ]),
        ),
        rounds,
      }
    }
    fleet.writeOne = await writeRounds([writer], true, 'one writer, the others listening')
    if (shape.hosts > 1) fleet.writeAll = await writeRounds(hosts, false, 'every process writing')
    // Delete-on-write of keys nobody cached: quiet steps too (docs/invalidation.md).
    fleet.deleteOne = await writeRounds([writer], true, 'one writer deleting uncached keys', true)
  }

  await Promise.all(hosts.map((h) => h.call('close').catch(() => {})))
  await Promise.all(
    hosts.map((h) =>
      h.child.exitCode === null ? new Promise((resolve) => h.child.once('exit', resolve)) : null,
    ),
  )
  await deleteKeysContaining(admin, prefix)
  printFleet(fleet)
  return fleet
}

function report(redis, fleets) {
  const env = environment()
  console.log(`\nfleet sizes on a private Redis ${redis.version}; ${describe(env)}`)
  const targets = []
  for (const f of fleets) {
    targets.push({
      id: `${f.label}: idle Redis commands/s per member <= ${TARGETS.idlePerMember}`,
      value: f.idle.perMember,
      // A fleet that did not form (f.skipped) is quiet for the wrong reason: it does not count.
      met: !f.skipped && f.idle.perMember <= TARGETS.idlePerMember,
    })
    // A fleet that did not form (f.skipped) did not meet it either.
    const ratio = f.writeOne?.ratio?.median ?? NaN
    targets.push({
      id: `${f.label}: one writer's set / raw SET >= ${TARGETS.writeVsRaw}`,
      value: ratio,
      met: ratio >= TARGETS.writeVsRaw,
    })
  }
  // The same rows as the report's (report/targets.js).
  for (const row of ackTargets(fleets)) {
    targets.push({ id: row.text, value: row.measured, met: row.verdict === 'met' })
  }
  for (const t of targets) {
    console.log(
      `target ${t.id}: ${typeof t.value === 'string' ? t.value : f2(t.value)} -> ${t.met ? 'MET' : 'NOT MET'}`,
    )
  }
  writeResult('fleet', {
    benchmark: 'fleet',
    ...env,
    redisVersion: redis.version,
    method: {
      server: 'private redis-server (--save "" --appendonly no)',
      idleSeconds: IDLE_SECONDS,
      settleSeconds: SETTLE_SECONDS,
      messages: MESSAGES,
      acks: ACKS,
      latencyRounds: LATENCY_ROUNDS,
      rounds: ROUNDS,
      roundMs: ROUND_MS,
      inFlight: IN_FLIGHT,
      valueBytes: VALUE_BYTES,
      simulatedHosts: HOSTS,
      counted:
        'INFO commandstats deltas (inside scripts included), INFO cpu sys+user; per-call and per-set figures net of the idle background',
    },
    fleets,
    targets,
  })
  if (process.argv.includes('--check') && targets.some((t) => !t.met)) process.exitCode = 1
}

await coordinator()
