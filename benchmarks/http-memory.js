// Memory per cached HTTP response: what 10,000 responses of ~1 KB cost in an L1-only cachegraph
// behind its Fastify, Express and Hono adapters, against the bodies alone and against an
// lru-cache of `{ status, headers, body }` objects (what a minimal response cache keeps).
//
// Method: every subject runs in a fresh child process (`node --expose-gc`), so heaps never mix,
// and the server runs in that process, so its heap is the one measured. A framework child serves
// GET /items/:id (a JSON body of exactly BODY_BYTES, deterministic per id) through cachegraph's
// adapter on `createCache({ l1: { maxEntries: 100_000 } })`, and requests it over real HTTP on
// 127.0.0.1 (node:http, one keep-alive agent, 8 requests in flight). Warm-up first, not measured:
// 500 requests to the same route for ids outside the measured range (the cache path compiled,
// the sockets open). Then: forced GC (three `gc()` calls, a turn of the event loop after each),
// `process.memoryUsage()`; 10,000 distinct ids requested once each, every response checked to be
// a 200 `X-Cache: MISS` with the expected body; forced GC, `process.memoryUsage()` again. Bytes
// per response = (after - before) / 10,000, for heapUsed and for external (which includes
// arrayBuffers: Buffer contents live there). Afterwards a sample of 100 of the ids must answer
// `X-Cache: HIT` with the same body. The baselines are filled and measured the same way without
// a server: the 10,000 body strings (as JSON.stringify makes them, which V8 keeps at about 1.3 KB
// for 1 KB of text) held in an array, and an lru-cache (`max: 100_000`) holding `GET /items/<id>`
// → `{ status, headers: { content-type, content-length, etag }, body }`. `bodies alone` is not
// measured: it is the body length itself (10,000 × BODY_BYTES / 10,000).
// Each subject runs ROUNDS times (default 3, rounds in order, subjects in a rotating order); the
// median per subject is reported.
//
// Environment: BENCH_ROUNDS (default 3), BENCH_FRAMEWORKS (default fastify,express,hono). Hono is
// imported from the repository's own dev install, as in http.js.

import { fork } from 'node:child_process'
import { createHash } from 'node:crypto'
import http from 'node:http'

import { describe, environment, median, positiveInt, writeResult } from './lib.js'

const RESPONSES = 10_000
const BODY_BYTES = 1024
const WARMUP = 500
const IN_FLIGHT = 8
const SAMPLE = 100
const ROUNDS = positiveInt(process.env.BENCH_ROUNDS, 3)
const FRAMEWORKS = (process.env.BENCH_FRAMEWORKS ?? 'fastify,express,hono').split(',')

const SUBJECTS = {
  fastify: 'cachegraph + Fastify',
  express: 'cachegraph + Express',
  hono: 'cachegraph + Hono',
  lru: 'lru-cache of {status, headers, body}',
  bodies: 'body strings in an array',
}
/** The bodies themselves, computed, not measured: RESPONSES × BODY_BYTES. */
const BODIES_ALONE = 'bodies alone'

/** The body of item `id`: a JSON object of exactly BODY_BYTES, padded by `notes`. */
function bodyOf(id) {
  const value = {
    id,
    sku: `SKU-${String(id).padStart(8, '0')}`,
    name: `Item ${id}`,
    price: { amount: 1000 + (id % 9000), currency: 'EUR' },
    active: id % 3 !== 0,
    categories: ['tools', 'garden', 'outdoor'],
    notes: '',
  }
  value.notes = 'x'.repeat(BODY_BYTES - JSON.stringify(value).length)
  return value
}

if (process.argv[2] === '--child') await child(process.argv[3])
else await main()

// --- parent -----------------------------------------------------------------------------------

async function main() {
  const subjects = [...FRAMEWORKS, 'lru', 'bodies']
  for (const id of subjects) {
    if (SUBJECTS[id] === undefined) throw new Error(`unknown framework in BENCH_FRAMEWORKS: ${id}`)
  }
  const runs = Object.fromEntries(subjects.map((id) => [id, []]))
  const started = Date.now()
  for (let round = 0; round < ROUNDS; round++) {
    for (let s = 0; s < subjects.length; s++) {
      const id = subjects[(s + round) % subjects.length]
      const run = await inChild(id)
      runs[id].push(run)
      console.log(
        `round ${round + 1}/${ROUNDS} ${SUBJECTS[id].padEnd(36)} ` +
          `${Math.round(run.heapBytesPerResponse + run.externalBytesPerResponse)} bytes/response`,
      )
    }
  }
  const seconds = (Date.now() - started) / 1000

  const results = {}
  for (const id of subjects) {
    const heap = median(runs[id].map((r) => r.heapBytesPerResponse))
    const external = median(runs[id].map((r) => r.externalBytesPerResponse))
    results[SUBJECTS[id]] = {
      bytesPerResponse: median(
        runs[id].map((r) => r.heapBytesPerResponse + r.externalBytesPerResponse),
      ),
      heapBytesPerResponse: heap,
      externalBytesPerResponse: external,
      runs: runs[id],
    }
  }

  results[BODIES_ALONE] = {
    bytesPerResponse: BODY_BYTES,
    heapBytesPerResponse: null,
    externalBytesPerResponse: null,
    computed: `${RESPONSES} × ${BODY_BYTES} bytes / ${RESPONSES}`,
  }

  const env = environment()
  const bytes = (n) => (n === null ? '-' : Math.round(n).toLocaleString('en-US')).padStart(9)
  const ratio = (n) => (n / BODY_BYTES).toFixed(2).padStart(9)
  console.log()
  console.log(
    `memory per cached response: ${RESPONSES.toLocaleString('en-US')} responses, ` +
      `${BODY_BYTES}-byte JSON bodies; medians of ${ROUNDS} fresh processes each; ${seconds.toFixed(1)} s`,
  )
  console.log(describe(env))
  console.log()
  console.log(
    `${'subject'.padEnd(38)} ${'bytes'.padStart(9)} ${'heap'.padStart(9)} ` +
      `${'external'.padStart(9)} ${'x body'.padStart(9)}`,
  )
  for (const [label, r] of Object.entries(results)) {
    console.log(
      `${label.padEnd(38)} ${bytes(r.bytesPerResponse)} ${bytes(r.heapBytesPerResponse)} ` +
        `${bytes(r.externalBytesPerResponse)} ${ratio(r.bytesPerResponse)}`,
    )
  }
  console.log(
    `(bytes per response = heap + external; x body: / ${BODY_BYTES}, the body length; ` +
      `${BODIES_ALONE}: computed, the rest measured)`,
  )

  writeResult('http-memory', {
    benchmark: 'http-memory',
    ...env,
    method: {
      process: 'a fresh child process per subject and round, node --expose-gc',
      cache: 'createCache({ l1: { maxEntries: 100_000 } })',
      requests: `real HTTP on 127.0.0.1, node:http keep-alive agent, ${IN_FLIGHT} in flight`,
      warmupRequests: WARMUP,
      measure:
        '(memoryUsage after - before) / responses, after gc() x3; heapUsed and external ' +
        '(external includes arrayBuffers)',
      checks: `every fill response a 200 MISS with the expected body; ${SAMPLE} sampled ids HIT after`,
      rounds: ROUNDS,
      statistic: 'median over rounds',
    },
    responses: RESPONSES,
    bodyBytes: BODY_BYTES,
    results,
  })
}

/** Runs subject `id` in a fresh process with --expose-gc; resolves to its figures. */
function inChild(id) {
  return new Promise((resolve, reject) => {
    const proc = fork(new URL(import.meta.url).pathname, ['--child', id], {
      execArgv: ['--expose-gc'],
    })
    let result
    proc.once('message', (message) => (result = message))
    proc.once('error', reject)
    proc.once('exit', (code) => {
      if (code === 0 && result !== undefined) resolve(result)
      else reject(new Error(`${SUBJECTS[id]}: the child exited with ${code}`))
    })
  })
}

// --- child ------------------------------------------------------------------------------------

/** Measures subject `id` once and sends its figures to the parent. */
async function child(id) {
  if (typeof globalThis.gc !== 'function') throw new Error('the child needs --expose-gc')
  const fill = id === 'lru' ? await lruFill() : id === 'bodies' ? bodiesFill() : await serve(id)
  await fill.warmUp?.()
  const before = await settledMemory()
  const held = await fill.run()
  const after = await settledMemory()
  // Also keeps what the fill holds reachable until after the second measurement.
  if (held === undefined) throw new Error(`${id}: the fill returned nothing to hold`)
  await fill.check?.()
  await fill.close?.()
  process.send({
    heapBytesPerResponse: (after.heapUsed - before.heapUsed) / RESPONSES,
    externalBytesPerResponse: (after.external - before.external) / RESPONSES,
    arrayBufferBytesPerResponse: (after.arrayBuffers - before.arrayBuffers) / RESPONSES,
    heapUsedAfter: after.heapUsed,
  })
  process.disconnect()
}

/** memoryUsage() after full collections, each followed by a turn of the event loop. */
async function settledMemory() {
  for (let n = 0; n < 3; n++) {
    globalThis.gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
  return process.memoryUsage()
}

/** Baseline: the body strings alone, in an array. */
function bodiesFill() {
  return {
    run: () => {
      const bodies = new Array(RESPONSES)
      for (let i = 0; i < RESPONSES; i++) bodies[i] = JSON.stringify(bodyOf(i))
      return bodies
    },
  }
}

/** Baseline: what a minimal response cache keeps, in an lru-cache. */
async function lruFill() {
  const { LRUCache } = await import('lru-cache')
  const cache = new LRUCache({ max: 100_000 })
  const put = (i) => {
    const body = JSON.stringify(bodyOf(i))
    cache.set(`GET /items/${i}`, {
      status: 200,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'content-length': String(body.length),
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      },
      body,
    })
  }
  return {
    warmUp: () => {
      for (let i = 0; i < WARMUP; i++) put(1_000_000 + i)
    },
    run: () => {
      for (let i = 0; i < RESPONSES; i++) put(i)
      return cache
    },
    check: () => {
      if (cache.size !== RESPONSES + WARMUP) throw new Error(`lru-cache holds ${cache.size}`)
    },
  }
}

/**
 * A `framework` app with GET /items/:id behind cachegraph, listening on 127.0.0.1 in this process,
 * and the requests that fill it.
 */
async function serve(framework) {
  const { createCache } = await import('cachegraph')
  const cache = createCache({ l1: { maxEntries: 100_000 } })
  const { port, close } = await listen(framework, cache)
  const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT })
  const expected = (id) => JSON.stringify(bodyOf(id))

  /** GET /items/<id> for every id of `ids`, IN_FLIGHT at a time; each must be `xCache`. */
  async function requestAll(ids, xCache) {
    let next = 0
    const worker = async () => {
      while (next < ids.length) {
        const id = ids[next++]
        const response = await get(agent, port, `/items/${id}`)
        if (response.status !== 200 || response.xCache !== xCache) {
          throw new Error(
            `${framework} /items/${id}: ${response.status} ${response.xCache}, not 200 ${xCache}`,
          )
        }
        if (JSON.stringify(JSON.parse(response.body)) !== expected(id)) {
          throw new Error(`${framework} /items/${id}: another body`)
        }
      }
    }
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
  }

  const range = (from, count) => Array.from({ length: count }, (_, n) => from + n)
  return {
    warmUp: () => requestAll(range(1_000_000, WARMUP), 'MISS'),
    run: async () => {
      await requestAll(range(0, RESPONSES), 'MISS')
      return cache
    },
    check: async () => {
      const step = RESPONSES / SAMPLE
      await requestAll(
        range(0, SAMPLE).map((n) => n * step),
        'HIT',
      )
      const stats = cache.stats()
      if (stats.misses < RESPONSES + WARMUP) {
        throw new Error(`${framework}: ${stats.misses} misses counted by the cache`)
      }
    },
    close: async () => {
      agent.destroy()
      await close()
      await cache.close()
    },
  }
}

/** Starts `framework`'s app on an ephemeral port; resolves to `{ port, close }`. */
async function listen(framework, cache) {
  const item = (id) => bodyOf(Number(id))
  if (framework === 'fastify') {
    const { default: Fastify } = await import('fastify')
    const { cachegraph } = await import('cachegraph/fastify')
    const app = Fastify({ logger: false })
    await app.register(cachegraph, { cache })
    app.get('/items/:id', { config: { cache: {} } }, (request) => item(request.params.id))
    await app.listen({ port: 0, host: '127.0.0.1' })
    return { port: app.server.address().port, close: () => app.close() }
  }
  if (framework === 'express') {
    const { default: express } = await import('express')
    const { cachegraph } = await import('cachegraph/express')
    const app = express()
    app.use(cachegraph({ cache }))
    app.get('/items/:id', cachegraph.route(), (req, res) => res.json(item(req.params.id)))
    const server = app.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    return { port: server.address().port, close: () => closeServer(server) }
  }
  // Hono from the repository's own install (as in http.js): one copy for the adapter and the app.
  const { Hono } = await import('hono')
  const { serve: serveHono } = await import('@hono/node-server')
  const { cachegraph } = await import('cachegraph/hono')
  const app = new Hono()
  app.use(cachegraph({ cache }))
  app.get('/items/:id', cachegraph.route(), (c) => c.json(item(c.req.param('id'))))
  let server
  const port = await new Promise((resolve) => {
    server = serveHono({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
      resolve(info.port),
    )
  })
  return { port, close: () => closeServer(server) }
}

function closeServer(server) {
  server.closeAllConnections?.()
  return new Promise((resolve) => server.close(() => resolve()))
}

/** One GET over `agent`; resolves to `{ status, xCache, body }`. */
function get(agent, port, path) {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path, agent }, (response) => {
      const chunks = []
      response.on('data', (chunk) => chunks.push(chunk))
      response.on('end', () =>
        resolve({
          status: response.statusCode,
          xCache: response.headers['x-cache'],
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      )
      response.on('error', reject)
    })
    request.on('error', reject)
  })
}
