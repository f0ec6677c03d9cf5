// Next.js cache handlers side by side: cachegraph (`cachegraph/next`) and
// @fortedigital/nextjs-cache-handler 3.3 (redis-strings, its README's production set-up), each
// behind `cacheHandler` of the same Next.js 16 app (next-app/: an ISR page whose data comes from
// a fetch tagged `bench`), two `next start` instances per handler on one Redis, and
// `cacheMaxMemorySize: 0` for both (Next's per-instance copy would hide other instances'
// revalidations). Measured:
//   - the handler alone: get() of a cached page in this process (next-handler.js);
//   - a cached page's hit: autocannon against one instance (latency p50/p99, req/s);
//   - a revalidation's reach: POST /api/revalidate to instance A (a route handler writing a new
//     value and calling revalidateTag('bench', { expire: 0 })), then GET the page on instance B
//     until it shows the new value: time from the POST until B serves it.
// The fortedigital handler does not implement `cacheHandlers` ('use cache'), so only
// `cacheHandler` is compared.
// Run: npm run build (at the root), then node next.js. BENCH_NEXT_SECONDS (default 10),
// BENCH_NEXT_HIT_ROUNDS (autocannon runs per handler, default 3), BENCH_NEXT_ROUNDS
// (revalidations, default 30), REDIS_URL. --no-build reuses next-app/.next.

import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import os from 'node:os'
import { fileURLToPath } from 'node:url'

import autocannon from 'autocannon'
import { Redis } from 'ioredis'

import { environment, median, percentile, positiveInt, writeResult } from './lib.js'
import { measureHandlers } from './next-handler.js'

const seconds = positiveInt(process.env.BENCH_NEXT_SECONDS, 10)
const rounds = positiveInt(process.env.BENCH_NEXT_ROUNDS, 30)
const hitRounds = positiveInt(process.env.BENCH_NEXT_HIT_ROUNDS, 3)
const connections = 10
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const app = fileURLToPath(new URL('./next-app/', import.meta.url))
const next = fileURLToPath(new URL('./node_modules/next/dist/bin/next', import.meta.url))
const HANDLERS = ['cachegraph', 'fortedigital']
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1', REDIS_URL: redisUrl }

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/** `next start` of next-app with `handler`; resolves once it answers. */
async function start(handler, prefix) {
  const port = await freePort()
  const child = spawn(process.execPath, [next, 'start', app, '-p', port, '-H', '127.0.0.1'], {
    env: { ...env, BENCH_NEXT_HANDLER: handler, BENCH_PREFIX: prefix, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk) => (output += chunk))
  child.stderr.on('data', (chunk) => (output += chunk))
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      const response = await fetch(`${url}/api/source`)
      await response.arrayBuffer()
      if (response.ok) {
        return {
          url,
          output: () => output,
          stop: () => (child.exitCode === null && child.kill('SIGTERM'), exited),
        }
      }
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  child.kill('SIGKILL')
  throw new Error(`next start (${handler}) did not answer:\n${output}`)
}

async function valueOf(url) {
  const response = await fetch(`${url}/isr/1`)
  const html = await response.text()
  const match = /data-value="([^"]*)"/.exec(html)
  if (!response.ok || !match) throw new Error(`GET ${url}/isr/1 -> ${response.status}`)
  return { value: match[1], cache: response.headers.get('x-nextjs-cache') }
}

function load(url) {
  return new Promise((resolve, reject) =>
    autocannon({ url: `${url}/isr/1`, connections, duration: seconds }, (error, r) =>
      error ? reject(error) : resolve(r),
    ),
  )
}

/** Two instances of `handler` on their own prefix of one Redis. */
async function fleet(handler) {
  const prefix = `bench-next-${handler}-${randomBytes(4).toString('hex')}`
  const [a, b] = [await start(handler, prefix), await start(handler, prefix)]
  // Cached through A, then served to B from Redis: both hit from here on.
  await valueOf(a.url)
  await valueOf(b.url)
  const hit = await valueOf(b.url)
  console.log(`${handler}: GET /isr/1 on B after A cached it -> x-nextjs-cache: ${hit.cache}`)
  return { handler, prefix, a, b, loads: [], reach: [], stalePolls: 0 }
}

async function hitRound(f) {
  const r = await load(f.a.url)
  if (r.non2xx > 0 || r.errors > 0)
    throw new Error(`${f.handler}: ${r.non2xx} non-2xx, ${r.errors} errors`)
  f.loads.push({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 })
  console.log(
    `${f.handler}: ${Math.round(r.requests.average)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms`,
  )
}

async function revalidationRound(f, i) {
  const value = `r${i}`
  const begin = performance.now()
  const response = await fetch(`${f.a.url}/api/revalidate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ value }),
  })
  await response.arrayBuffer()
  for (;;) {
    if ((await valueOf(f.b.url)).value === value) break
    f.stalePolls++
    if (performance.now() - begin > 30_000) throw new Error(`${f.handler}: B never served ${value}`)
  }
  f.reach.push(performance.now() - begin)
  await valueOf(f.a.url) // A caches the new value again before the next round
}

function summary(f) {
  const rps = f.loads.map((l) => l.rps)
  return {
    hit: {
      requestsPerSecond: median(rps),
      requestsPerSecondRange: { min: Math.min(...rps), max: Math.max(...rps) },
      latencyP50Ms: median(f.loads.map((l) => l.p50)),
      latencyP99Ms: median(f.loads.map((l) => l.p99)),
    },
    revalidation: {
      rounds: f.reach.length,
      medianMs: median(f.reach),
      p95Ms: percentile(f.reach, 0.95),
      maxMs: Math.max(...f.reach),
      stalePolls: f.stalePolls,
    },
  }
}

async function cleanup(fleets) {
  await Promise.all(fleets.flatMap((f) => [f.a.stop(), f.b.stop()]))
  const redis = new Redis(redisUrl)
  for (const { prefix } of fleets) {
    let cursor = '0'
    do {
      const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      if (keys.length > 0) await redis.unlink(...keys)
      cursor = nextCursor
    } while (cursor !== '0')
  }
  await redis.quit()
}

if (!process.argv.includes('--no-build')) {
  const build = spawnSync(process.execPath, [next, 'build', app], { env, stdio: 'inherit' })
  if (build.status !== 0) process.exit(build.status ?? 1)
}

const versionOf = (name) =>
  JSON.parse(readFileSync(new URL(`./node_modules/${name}/package.json`, import.meta.url), 'utf8'))
    .version
const nextVersion = versionOf('next')
const forteVersion = versionOf('@fortedigital/nextjs-cache-handler')
// The handlers alone first: get() of a cached page, in this process (next-handler.js).
const handlerGet = await measureHandlers({ redisUrl })
for (const [handler, r] of Object.entries(handlerGet)) {
  console.log(
    `${handler}: get() of a cached page p50 ${r.getP50Us.toFixed(1)} µs, p99 ${r.getP99Us.toFixed(1)} µs`,
  )
}

// Both fleets run side by side and take turns (the order swapped every round), so a machine
// whose load changes during the run weighs on both alike.
const fleets = []
try {
  for (const handler of HANDLERS) fleets.push(await fleet(handler))
  for (const f of fleets) await load(f.a.url) // warm-up, not counted
  for (let round = 0; round < hitRounds; round++) {
    for (const f of round % 2 === 0 ? fleets : [...fleets].reverse()) await hitRound(f)
  }
  for (let i = 1; i <= rounds; i++) for (const f of fleets) await revalidationRound(f, i)
} finally {
  await cleanup(fleets)
}
const results = Object.fromEntries(
  fleets.map((f) => [f.handler, { ...summary(f), handlerGet: handlerGet[f.handler] }]),
)
for (const [handler, r] of Object.entries(results)) {
  console.log(
    `${handler}: ${Math.round(r.hit.requestsPerSecond)} req/s (median of ${hitRounds}), p50 ${r.hit.latencyP50Ms} ms, p99 ${r.hit.latencyP99Ms} ms; another instance serves a revalidated tag after ${r.revalidation.medianMs.toFixed(1)} ms (median), p95 ${r.revalidation.p95Ms.toFixed(1)} ms`,
  )
}

writeResult('next', {
  ...environment(),
  method: {
    next: nextVersion,
    fortedigital: forteVersion,
    page: 'ISR page (revalidate 3600) with a fetch tagged bench; cacheMaxMemorySize 0',
    generator: 'autocannon',
    connections,
    seconds,
    hitRounds,
    // A busy machine slows Next itself down: both handlers share the load, turn by turn.
    loadAverage: os.loadavg().map((n) => Math.round(n * 10) / 10),
    revalidation: "route handler revalidateTag('bench', { expire: 0 }) on A, GET on B until new",
  },
  results,
})
