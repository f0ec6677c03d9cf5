// Cached HTTP GET through cachegraph's Fastify, Express and Hono adapters, against the same app
// serving a constant JSON body, and against an origin that takes 2 ms per request.
//
// Method: per framework, the server runs in a child process (one core) and wrk, a C load
// generator, in another (1 thread, 50 connections, keep-alive, no pipelining), so the server and
// not the client is measured (SPEC §7). wrk is installed from Debian when it is not on PATH
// (wrk.js); when it cannot be, autocannon (10 connections, in this process) stands in and the
// results say so: its figures are for information, not the target. Routes of one app, all
// returning the same ~1 KB JSON:
//   /const          Fastify, a constant object (no cache)
//   /cached/const   the same behind cachegraph (`config: { cache: {} }`): every timed request a HIT
//   /origin         builds the object after a 2 ms timer (a fast database, say)
//   /cached/origin  the same behind cachegraph: HITs
// Each round runs every route for BENCH_SECONDS (default 5), in an order that rotates; the ratio
// of each round's requests/s is taken and the median over BENCH_ROUNDS (default 3) reported.
// Every response must be a 2xx; the cached routes are checked to answer `x-cache: HIT` first.
// Beside requests/s, each run reports the server's CPU time per request (user + system, from the
// server process's own counters): on a shared machine it moves less with the neighbours' load
// than throughput does, and const / cached of it says what the cache costs per request. The
// target stays the throughput ratio (SPEC §7).
// `node http.js --check` exits with 1 when cached / constant is below 0.8 for a framework.
// BENCH_FRAMEWORKS (default fastify,express,hono) picks the frameworks, BENCH_CONNECTIONS (50)
// and BENCH_WRK_THREADS (1) shape the load. Hono is imported from the repository's own dev
// install (not this package's), so the adapter and the app share one copy: Hono's route helpers
// do not work across two copies.

import { fork } from 'node:child_process'

import { serve } from '@hono/node-server'
import autocannon from 'autocannon'
import { createCache } from 'cachegraph'
import { cachegraph as forExpress } from 'cachegraph/express'
import { cachegraph as forFastify } from 'cachegraph/fastify'
import { cachegraph as forHono } from 'cachegraph/hono'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'

import { describe, environment, median, positiveInt, writeResult } from './lib.js'
import { ensureWrk, runWrk } from './wrk.js'

const SECONDS = positiveInt(process.env.BENCH_SECONDS, 5)
const ROUNDS = positiveInt(process.env.BENCH_ROUNDS, 3)
const WRK_CONNECTIONS = positiveInt(process.env.BENCH_CONNECTIONS, 50)
const WRK_THREADS = positiveInt(process.env.BENCH_WRK_THREADS, 1)
const AUTOCANNON_CONNECTIONS = 10
const TARGET = 0.8
const FRAMEWORKS = (process.env.BENCH_FRAMEWORKS ?? 'fastify,express,hono').split(',')

const body = {
  items: Array.from({ length: 10 }, (_, i) => ({ id: i, name: `Item ${i}`, price: 100 + i })),
  note: 'x'.repeat(500),
}

if (process.argv[2] === '--server') await server(process.argv[3])
else await main()

function slow() {
  return new Promise((resolve) => setTimeout(() => resolve(body), 2))
}

/** One app of `framework` with the four routes; sends its port to the parent. */
async function server(framework) {
  const cache = createCache({ ttl: '10m' })
  let port
  if (framework === 'fastify') {
    const app = Fastify({ logger: false })
    await app.register(forFastify, { cache })
    app.get('/const', () => body)
    app.get('/cached/const', { config: { cache: {} } }, () => body)
    app.get('/origin', slow)
    app.get('/cached/origin', { config: { cache: {} } }, slow)
    await app.listen({ port: 0, host: '127.0.0.1' })
    port = app.server.address().port
  } else if (framework === 'express') {
    const app = express()
    app.use(forExpress({ cache }))
    app.get('/const', (_req, res) => res.json(body))
    app.get('/cached/const', forExpress.route(), (_req, res) => res.json(body))
    app.get('/origin', async (_req, res) => res.json(await slow()))
    app.get('/cached/origin', forExpress.route(), async (_req, res) => res.json(await slow()))
    const listening = app.listen(0, '127.0.0.1')
    await new Promise((resolve) => listening.once('listening', resolve))
    port = listening.address().port
  } else {
    const app = new Hono()
    app.use(forHono({ cache }))
    app.get('/const', (c) => c.json(body))
    app.get('/cached/const', forHono.route(), (c) => c.json(body))
    app.get('/origin', async (c) => c.json(await slow()))
    app.get('/cached/origin', forHono.route(), async (c) => c.json(await slow()))
    port = await new Promise((resolve) =>
      serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(info.port)),
    )
  }
  process.send({ port })
  process.on('message', (message) => {
    if (message !== 'cpu') return
    const { user, system } = process.cpuUsage()
    process.send({ cpuMicros: user + system })
  })
  process.on('disconnect', () => process.exit(0))
}

async function main() {
  const wrk = ensureWrk()
  if (!wrk.ok) {
    console.log(
      `\n${wrk.reason}.\nSkipping the wrk runs: autocannon (${AUTOCANNON_CONNECTIONS} connections) ` +
        'stands in, for information only (SPEC §7 measures with wrk).\n',
    )
  }
  const load = wrk.ok
    ? { generator: 'wrk', connections: WRK_CONNECTIONS, threads: WRK_THREADS }
    : { generator: 'autocannon', connections: AUTOCANNON_CONNECTIONS, threads: 1 }
  const results = {}
  for (const framework of FRAMEWORKS) results[framework] = await client(framework, load)
  const env = environment()
  console.log(
    `\ncached GET vs the same framework's constant route; ${load.generator}, ` +
      `${load.connections} connections; ${describe(env)}`,
  )
  const fmt = (n) => Math.round(n).toLocaleString('en-US').padStart(7)
  for (const [framework, summary] of Object.entries(results)) {
    const rps = summary.requestsPerSecond
    console.log(
      `${framework.padEnd(8)} const ${fmt(rps['/const'])}  cached ${fmt(rps['/cached/const'])}  ` +
        `origin ${fmt(rps['/origin'])}  cached origin ${fmt(rps['/cached/origin'])} req/s; ` +
        `cached / const ${summary.cachedVsConst.toFixed(2)} ` +
        `(${summary.cachedVsConst >= TARGET ? 'MET' : 'NOT MET'}), ` +
        `cached / 2 ms origin ${summary.cachedVsOrigin.toFixed(2)}; CPU per request ` +
        `const ${summary.cpuUsPerRequest['/const'].toFixed(1)} µs, cached ` +
        `${summary.cpuUsPerRequest['/cached/const'].toFixed(1)} µs (const / cached ` +
        `${summary.cachedVsConstCpu.toFixed(2)})`,
    )
  }
  const targets = Object.entries(results).map(([framework, summary]) => ({
    id: `${framework}: cached GET / constant JSON route >= ${TARGET} (${load.generator})`,
    value: summary.cachedVsConst,
    met: summary.cachedVsConst >= TARGET,
  }))
  writeResult('http', {
    benchmark: 'http',
    ...env,
    method: {
      ...load,
      ...(wrk.ok ? {} : { wrkMissing: wrk.reason }),
      seconds: SECONDS,
      rounds: ROUNDS,
      bodyBytes: JSON.stringify(body).length,
      ratio: 'median of per-round ratios',
    },
    results,
    targets,
  })
  if (process.argv.includes('--check') && targets.some((t) => !t.met)) process.exitCode = 1
}

/** One run of `seconds` against `url`: requests/s; throws on non-2xx responses. */
async function measure(url, seconds, load) {
  if (load.generator === 'wrk') {
    const result = await runWrk({
      url,
      seconds,
      connections: load.connections,
      threads: load.threads,
    })
    if (result.non2xx > 0) throw new Error(`${url}: ${result.non2xx} non-2xx responses`)
    return {
      rps: result.requestsPerSecond,
      requests: result.requests,
      socketErrors: result.socketErrors,
      p99Ms: result.latencyMs.p99,
    }
  }
  const result = await new Promise((resolve, reject) => {
    autocannon({ url, connections: load.connections, duration: seconds }, (error, r) =>
      error ? reject(error) : resolve(r),
    )
  })
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${url}: ${result.non2xx} non-2xx responses, ${result.errors} errors`)
  }
  return {
    rps: result.requests.average,
    requests: result.requests.total,
    socketErrors: 0,
    p99Ms: result.latency.p99,
  }
}

/** Every route of `framework`'s app, in rounds; medians. */
async function client(framework, load) {
  const child = fork(new URL(import.meta.url).pathname, ['--server', framework])
  const { port } = await new Promise((resolve) => child.once('message', resolve))
  /** The server process's CPU time so far (µs). */
  const cpu = () =>
    new Promise((resolve) => {
      child.once('message', ({ cpuMicros }) => resolve(cpuMicros))
      child.send('cpu')
    })
  const routes = ['/const', '/cached/const', '/origin', '/cached/origin']
  const url = (path) => `http://127.0.0.1:${port}${path}`
  // Warm-up: fills the cache and the JIT (and checks the cached routes are HITs).
  for (const path of routes) await measure(url(path), 1, load)
  for (const path of ['/cached/const', '/cached/origin']) {
    const response = await fetch(url(path))
    if (response.headers.get('x-cache') !== 'HIT') throw new Error(`${path} is not a HIT`)
    await response.arrayBuffer()
  }
  const rounds = []
  for (let round = 0; round < ROUNDS; round++) {
    const rps = {}
    const p99Ms = {}
    const cpuUs = {}
    let socketErrors = 0
    for (let r = 0; r < routes.length; r++) {
      const path = routes[(r + round) % routes.length]
      const before = await cpu()
      const result = await measure(url(path), SECONDS, load)
      cpuUs[path] = ((await cpu()) - before) / result.requests
      rps[path] = result.rps
      p99Ms[path] = result.p99Ms
      socketErrors += result.socketErrors
    }
    rounds.push({
      rps,
      p99Ms,
      cpuUsPerRequest: cpuUs,
      socketErrors,
      cachedVsConst: rps['/cached/const'] / rps['/const'],
      cachedVsConstCpu: cpuUs['/const'] / cpuUs['/cached/const'],
      cachedVsOrigin: rps['/cached/origin'] / rps['/origin'],
    })
    const last = rounds.at(-1)
    console.log(
      `${framework} round ${round + 1}: cached / const ${last.cachedVsConst.toFixed(2)}, ` +
        `CPU per request const / cached ${last.cachedVsConstCpu.toFixed(2)}`,
    )
  }
  child.disconnect()
  const summary = {
    requestsPerSecond: Object.fromEntries(
      routes.map((path) => [path, median(rounds.map((r) => r.rps[path]))]),
    ),
    p99Ms: Object.fromEntries(
      routes.map((path) => [path, median(rounds.map((r) => r.p99Ms[path]))]),
    ),
    cpuUsPerRequest: Object.fromEntries(
      routes.map((path) => [path, median(rounds.map((r) => r.cpuUsPerRequest[path]))]),
    ),
    cachedVsConst: median(rounds.map((r) => r.cachedVsConst)),
    cachedVsConstCpu: median(rounds.map((r) => r.cachedVsConstCpu)),
    cachedVsConstRange: {
      min: Math.min(...rounds.map((r) => r.cachedVsConst)),
      max: Math.max(...rounds.map((r) => r.cachedVsConst)),
    },
    cachedVsOrigin: median(rounds.map((r) => r.cachedVsOrigin)),
  }
  return { ...summary, rounds }
}
