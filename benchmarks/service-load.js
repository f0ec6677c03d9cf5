// Sustained invalidation load on `cachegraph serve`: autocannon POSTs the seed body
// `{"entity_id": n, "entity_type": "product"}` (n varying) with an API key, against the service on
// its embedded memory store and on Redis (store + bus). Reports requests/s, latency and errors;
// every response must be a 2xx.
//
// The service runs as a child process (`node ../dist/cli/main.js serve`), autocannon here;
// BENCH_SECONDS (default 10), 10 connections. Redis: REDIS_URL (default redis://127.0.0.1:6379),
// under a prefix of its own, deleted at the end (SCAN + UNLINK).

import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'

import autocannon from 'autocannon'
import { Redis } from 'ioredis'

import { deleteKeysContaining, describe, environment, positiveInt, writeResult } from './lib.js'

const SECONDS = positiveInt(process.env.BENCH_SECONDS, 10)
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const KEY = 'bench-key'
const PREFIX = `cgbench-svc-${process.pid}-${randomBytes(4).toString('hex')}`
const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname

const results = {}
for (const [name, extra] of [
  ['memory', []],
  ['redis', ['--redis', REDIS_URL, '--prefix', PREFIX]],
]) {
  results[name] = await run(extra)
}
const env = environment()
console.log(`\ncachegraph serve under load (${SECONDS} s, 10 connections); ${describe(env)}`)
for (const [name, r] of Object.entries(results)) {
  console.log(
    `${name.padEnd(7)} ${Math.round(r.requestsPerSecond).toLocaleString('en-US').padStart(7)} req/s, ` +
      `latency p50 ${r.latencyP50} ms, p99 ${r.latencyP99} ms, ${r.non2xx} non-2xx, ${r.errors} errors`,
  )
}
writeResult('service-load', { benchmark: 'service-load', ...env, seconds: SECONDS, results })
const admin = new Redis(REDIS_URL)
await deleteKeysContaining(admin, PREFIX)
await admin.quit()
if (Object.values(results).some((r) => r.non2xx > 0 || r.errors > 0)) process.exitCode = 1

async function run(extra) {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--api-key', KEY, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const port = await new Promise((resolve, reject) => {
    let text = ''
    const read = (chunk) => {
      text += chunk
      const match = /service on http:\/\/127\.0\.0\.1:(\d+)/.exec(text)
      if (match) resolve(Number(match[1]))
    }
    // The service logs to stderr.
    child.stdout.on('data', read)
    child.stderr.on('data', read)
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${text}`)))
  })
  let n = 0
  const result = await new Promise((resolve, reject) => {
    autocannon(
      {
        url: `http://127.0.0.1:${port}/cache/invalidate`,
        method: 'POST',
        connections: 10,
        duration: SECONDS,
        headers: { 'content-type': 'application/json', 'x-api-key': KEY },
        setupClient: (client) => {
          client.setBody(JSON.stringify({ entity_id: ++n % 1000, entity_type: 'product' }))
        },
      },
      (error, r) => (error ? reject(error) : resolve(r)),
    )
  })
  child.kill('SIGTERM')
  await new Promise((resolve) => child.once('exit', resolve))
  return {
    requestsPerSecond: result.requests.average,
    requests: result.requests.total,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  }
}
