// Idle traffic: what one process with a Redis store and a Redis bus makes Redis do while the
// application does nothing. SPEC §7: at most 1 command per second, commands run inside scripts
// included.
//
// Method: a Redis server of this script's own (private-redis.js: a free port, no persistence), so
// `INFO commandstats` counts this process alone. One cache, `createCache({ store: redisStore({
// url, prefix }), bus: redisBus() })`, in two states, each measured over BENCH_IDLE_SECONDS
// (default 10) after BENCH_SETTLE_SECONDS (default 2) of settling:
//   - started: created, never used;
//   - after use: one `set` (3 tags), one `get` (a hit), one `invalidate`, then nothing.
// Counted: the calls of every command between two `INFO commandstats` snapshots (the snapshots'
// own INFO left out). Redis counts a command called by a script as a call of that command, so a
// script that runs 4 commands counts 5 (its EVALSHA and the 4). Also the server's CPU
// (`INFO cpu`, sys + user) over the same window.
//
// `node idle.js --check` exits with 1 when a state is over 1 command/s.

import { randomBytes } from 'node:crypto'

import { createCache } from 'cachegraph'
import { redisBus, redisStore } from 'cachegraph/redis'

import { describe, environment, positiveInt, writeResult } from './lib.js'
import { serverDelta, serverSnapshot, startPrivateRedis } from './private-redis.js'

const SECONDS = positiveInt(process.env.BENCH_IDLE_SECONDS, 10)
const SETTLE_SECONDS = positiveInt(process.env.BENCH_SETTLE_SECONDS, 2)
const TARGET_PER_SECOND = 1
const PREFIX = `cgbench-idle-${process.pid}-${randomBytes(4).toString('hex')}`

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const redis = await startPrivateRedis('idle.js')
try {
  await main()
} finally {
  await redis.stop()
}

/** The commands Redis ran over SECONDS, per second. */
async function window() {
  const before = await serverSnapshot(redis.admin)
  await sleep(SECONDS * 1000)
  const delta = serverDelta(before, await serverSnapshot(redis.admin))
  return {
    seconds: delta.seconds,
    commandsPerSecond: delta.total / delta.seconds,
    byCommandPerSecond: Object.fromEntries(
      Object.entries(delta.commands).map(([name, n]) => [name, n / delta.seconds]),
    ),
    redisCpuMsPerSecond: (delta.cpuSeconds * 1000) / delta.seconds,
  }
}

async function main() {
  const cache = createCache({
    store: redisStore({ url: redis.url, prefix: PREFIX }),
    bus: redisBus(),
  })
  const states = {}
  try {
    console.log(`started, never used: ${SETTLE_SECONDS} s to settle, then ${SECONDS} s counted...`)
    await sleep(SETTLE_SECONDS * 1000)
    states.started = await window()

    const value = { id: 1, notes: 'x'.repeat(1000) }
    if (!(await cache.set('item:1', value, { tags: ['item:1', 'group:1', 'all'] }))) {
      throw new Error('the cache did not store item:1')
    }
    if ((await cache.get('item:1'))?.id !== 1) throw new Error('item:1 is not a hit')
    await cache.invalidate('group:1')
    console.log(
      `after a set, a get and an invalidate: ${SETTLE_SECONDS} s to settle, then ${SECONDS} s counted...`,
    )
    await sleep(SETTLE_SECONDS * 1000)
    states.afterUse = await window()
  } finally {
    await cache.close()
  }

  const env = environment()
  console.log(`\nidle process with a Redis store and bus; Redis ${redis.version}; ${describe(env)}`)
  const targets = []
  for (const [state, x] of Object.entries(states)) {
    const by = Object.entries(x.byCommandPerSecond)
      .sort((a, b) => b[1] - a[1])
      .map(([name, n]) => `${name} ${n.toFixed(2)}`)
      .join(', ')
    const met = x.commandsPerSecond <= TARGET_PER_SECOND
    console.log(
      `${state.padEnd(9)} ${x.commandsPerSecond.toFixed(2)} commands/s (${by || 'none'}); ` +
        `Redis CPU ${x.redisCpuMsPerSecond.toFixed(2)} ms/s -> ${met ? 'MET' : 'NOT MET'}`,
    )
    targets.push({
      id: `idle (${state}): Redis commands/s <= ${TARGET_PER_SECOND}`,
      value: x.commandsPerSecond,
      met,
    })
  }
  writeResult('idle', {
    benchmark: 'idle',
    ...env,
    redisVersion: redis.version,
    method: {
      seconds: SECONDS,
      settleSeconds: SETTLE_SECONDS,
      server: 'private redis-server (--save "" --appendonly no)',
      counted: 'INFO commandstats deltas (commands inside scripts included), INFO cpu sys+user',
    },
    states,
    targets,
  })
  if (process.argv.includes('--check') && targets.some((t) => !t.met)) process.exitCode = 1
}
