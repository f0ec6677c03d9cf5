// Cached HTTP GET through the cachegraph Fastify plugin, against the same Fastify app serving a
// constant JSON body, and against an origin that takes 2 ms per request.
//
// Method: the server runs in a child process (one core), autocannon in this one (the other core),
// 10 connections, no pipelining. Routes of one Fastify app, all returning the same ~1 KB JSON:
//   /const          Fastify, a constant object (no cache)
//   /cached/const   the same behind cachegraph (`config: { cache: {} }`): every timed request a HIT
//   /origin         builds the object after a 2 ms timer (a fast database, say)
//   /cached/origin  the same behind cachegraph: HITs
// Each round runs every route for BENCH_SECONDS (default 5), in an order that rotates; the ratio
// of each round's requests/s is taken and the median over BENCH_ROUNDS (default 3) reported.
// Every response must be a 2xx; the cached routes are checked to answer `x-cache: HIT` first.
// `node http-fastify.js --check` exits with 1 when cached / constant is below 0.8.

import { fork } from 'node:child_process'

import autocannon from 'autocannon'
import { createCache } from 'cachegraph'
import { cachegraph } from 'cachegraph/fastify'
import Fastify from 'fastify'

import { describe, environment, median, positiveInt, writeResult } from './lib.js'

const SECONDS = positiveInt(process.env.BENCH_SECONDS, 5)
const ROUNDS = positiveInt(process.env.BENCH_ROUNDS, 3)
const CONNECTIONS = 10
const TARGET = 0.8

const body = {
  items: Array.from({ length: 10 }, (_, i) => ({ id: i, name: `Item ${i}`, price: 100 + i })),
  note: 'x'.repeat(500),
}

if (process.argv[2] === '--server') await server()
else await client()

async function server() {
  const app = Fastify({ logger: false })
  const cache = createCache({ ttl: '10m' })
  await app.register(cachegraph, { cache })
  const slow = () => new Promise((resolve) => setTimeout(() => resolve(body), 2))
  app.get('/const', () => body)
  app.get('/cached/const', { config: { cache: {} } }, () => body)
  app.get('/origin', slow)
  app.get('/cached/origin', { config: { cache: {} } }, slow)
  await app.listen({ port: 0, host: '127.0.0.1' })
  process.send({ port: app.server.address().port })
  process.on('disconnect', () => app.close().then(() => process.exit(0)))
}

async function client() {
  const child = fork(new URL(import.meta.url).pathname, ['--server'])
  const { port } = await new Promise((resolve) => child.once('message', resolve))
  const routes = ['/const', '/cached/const', '/origin', '/cached/origin']
  const run = (path, seconds) =>
    new Promise((resolve, reject) => {
      autocannon(
        { url: `http://127.0.0.1:${port}${path}`, connections: CONNECTIONS, duration: seconds },
        (error, result) => (error ? reject(error) : resolve(result)),
      )
    })
  // Warm-up: fills the cache and the JIT (and checks the cached routes are HITs).
  for (const path of routes) await run(path, 1)
  for (const path of ['/cached/const', '/cached/origin']) {
    const response = await fetch(`http://127.0.0.1:${port}${path}`)
    if (response.headers.get('x-cache') !== 'HIT') throw new Error(`${path} is not a HIT`)
    await response.arrayBuffer()
  }
  const rounds = []
  for (let round = 0; round < ROUNDS; round++) {
    const rps = {}
    for (let r = 0; r < routes.length; r++) {
      const path = routes[(r + round) % routes.length]
      const result = await run(path, SECONDS)
      if (result.non2xx > 0 || result.errors > 0) {
        throw new Error(`${path}: ${result.non2xx} non-2xx responses, ${result.errors} errors`)
      }
      rps[path] = result.requests.average
    }
    rounds.push({
      rps,
      cachedVsConst: rps['/cached/const'] / rps['/const'],
      cachedVsOrigin: rps['/cached/origin'] / rps['/origin'],
    })
  }
  child.disconnect()
  const summary = {
    requestsPerSecond: Object.fromEntries(
      routes.map((path) => [path, median(rounds.map((r) => r.rps[path]))]),
    ),
    cachedVsConst: median(rounds.map((r) => r.cachedVsConst)),
    cachedVsOrigin: median(rounds.map((r) => r.cachedVsOrigin)),
  }
  const env = environment()
  console.log(`cached Fastify GET, ${CONNECTIONS} connections, ${describe(env)}`)
  for (const path of routes) {
    console.log(
      `${path.padEnd(16)} ${Math.round(summary.requestsPerSecond[path]).toLocaleString('en-US').padStart(9)} req/s`,
    )
  }
  const met = summary.cachedVsConst >= TARGET
  console.log(
    `cached / constant route: ${summary.cachedVsConst.toFixed(2)} (target >= ${TARGET}: ${met ? 'MET' : 'NOT MET'})`,
  )
  console.log(`cached / 2 ms origin: ${summary.cachedVsOrigin.toFixed(2)}`)
  writeResult('http-fastify', {
    benchmark: 'http-fastify',
    ...env,
    method: {
      connections: CONNECTIONS,
      seconds: SECONDS,
      rounds: ROUNDS,
      bodyBytes: JSON.stringify(body).length,
    },
    summary,
    rounds,
    targets: [{ id: 'cached GET / constant JSON route >= 0.8', value: summary.cachedVsConst, met }],
  })
  if (process.argv.includes('--check') && !met) process.exitCode = 1
}
