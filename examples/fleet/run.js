// The fleet demo, in one command: two app processes sharing one Redis, the invalidation service
// (`cachegraph serve`), and a writer that changes a product and calls flushCache().
// Run: npm run build && node examples/fleet/run.js   (REDIS_URL, default redis://127.0.0.1:6379)
// With --watch it keeps running and the writer changes a price every 3 s: open the dashboard
// URLs it prints (--open opens app-a's) and watch each invalidation reach both apps.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

import { Redis } from 'ioredis'

import { saveProduct } from './db.js'

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const prefix = `cgfleet-${process.pid}-${randomBytes(3).toString('hex')}`
const apiKey = randomBytes(12).toString('hex')
const here = (file) => fileURLToPath(new URL(file, import.meta.url))
const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))

const children = []
// No reconnecting: without Redis the demo says so and stops instead of waiting.
const redis = new Redis(url, {
  lazyConnect: true,
  maxRetriesPerRequest: 1,
  retryStrategy: () => null,
})
redis.on('error', () => {}) // reported by the command that failed

/** A port nobody is listening on right now. */
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

/** Starts `node <args>`; its output goes to ours, prefixed with its name, when DEBUG is set. */
function start(name, args, env) {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const keep = (chunk) => {
    output += chunk
    if (process.env.DEBUG) process.stderr.write(`[${name}] ${chunk}`)
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  child.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)))
  child.output = () => output
  child.label = name
  children.push(child)
  return child
}

/** Polls `check` every 25 ms until it returns true; throws after `ms`. */
async function until(what, ms, check) {
  const deadline = Date.now() + ms
  for (;;) {
    try {
      if (await check()) return
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

async function ready(child, healthUrl) {
  await until(`${child.label} (${healthUrl})`, 10_000, async () => {
    if (child.exitCode !== null) {
      throw new Error(`${child.label} exited (${child.exitCode}):\n${child.output()}`)
    }
    return (await fetch(healthUrl)).ok
  }).catch((error) => {
    throw new Error(`${error.message}\n${child.output()}`)
  })
}

async function getProduct(app) {
  const res = await fetch(`${app.url}/products/1`)
  const product = await res.json()
  return { cache: res.headers.get('x-cache'), price: product.price }
}

const show = (app, { cache, price }, note = '') =>
  console.log(`${app.name}  GET /products/1 -> ${cache.padEnd(4)} (price ${price})${note}`)

async function main() {
  await redis.connect().catch((error) => {
    throw new Error(`no Redis at ${url} (set REDIS_URL): ${error.message}`)
  })
  await saveProduct(redis, prefix, { id: 1, name: 'Teapot', price: 10 })
  await saveProduct(redis, prefix, { id: 2, name: 'Kettle', price: 25 })

  const servicePort = await freePort()
  const serviceUrl = `http://127.0.0.1:${servicePort}`
  const service = start('service', [
    cli,
    'serve',
    '--redis',
    url,
    '--prefix',
    prefix,
    '--namespace',
    prefix,
    '--api-key',
    apiKey,
    '--port',
    String(servicePort),
  ])
  const apps = []
  for (const name of ['app-a', 'app-b']) {
    const port = await freePort()
    const child = start(name, [here('app.js')], {
      REDIS_URL: url,
      PREFIX: prefix,
      PORT: port,
      NAME: name,
    })
    apps.push({ name, child, url: `http://127.0.0.1:${port}` })
  }
  await ready(service, `${serviceUrl}/health`)
  for (const app of apps) await ready(app.child, `${app.url}/products`)
  console.log(`service, app-a and app-b up (Redis ${url}, prefix ${prefix})`)

  const [a, b] = apps
  show(a, await getProduct(a), '  loaded from the database')
  show(a, await getProduct(a))
  show(b, await getProduct(b), "  app-a's response, shared through Redis")
  show(b, await getProduct(b))

  const writer = start('writer', [here('writer.js')], {
    REDIS_URL: url,
    PREFIX: prefix,
    API_URL: serviceUrl,
    API_KEY: apiKey,
    PRODUCT_ID: '1',
    PRICE: '12',
  })
  const code = await writer.exited
  process.stdout.write(writer.output())
  if (code !== 0) throw new Error(`writer exited with ${code}`)

  // Every app serves the new price as soon as the bus has delivered the invalidation.
  const started = Date.now()
  const after = new Map()
  await until('both apps to serve price 12', 2000, async () => {
    for (const app of apps) {
      if (after.has(app)) continue
      const seen = await getProduct(app)
      if (seen.price === 12) after.set(app, { ...seen, ms: Date.now() - started })
    }
    return after.size === apps.length
  })
  for (const app of apps) show(app, after.get(app), `  ${after.get(app).ms} ms after the write`)
  console.log('both apps serve the new price')

  console.log(`dashboards: ${a.url}/api/cache/ui  ${b.url}/api/cache/ui`)
  console.log(`            ${serviceUrl}/api/cache/ui (user name: any, password: ${apiKey})`)
  if (process.argv.includes('--watch')) await watch(apps, serviceUrl)
}

/** Writes a new price every 3 s until Ctrl-C: each write's invalidation shows in the dashboards. */
async function watch(apps, serviceUrl) {
  const dashboard = `${apps[0].url}/api/cache/ui`
  if (process.argv.includes('--open')) openBrowser(dashboard)
  console.log('watching: a write every 3 s; Ctrl-C stops the fleet')
  for (let price = 13; ; price++) {
    await new Promise((resolve) => setTimeout(resolve, 3000))
    const writer = start('writer', [here('writer.js')], {
      REDIS_URL: url,
      PREFIX: prefix,
      API_URL: serviceUrl,
      API_KEY: apiKey,
      PRODUCT_ID: String(1 + (price % 2)),
      PRICE: String(price),
    })
    await writer.exited
    process.stdout.write(writer.output())
    // Both apps read again, so their dashboards show misses and hits as well.
    const reads = apps.flatMap((app) => [`${app.url}/products`, `${app.url}/products/1`])
    await Promise.all(reads.map((read) => fetch(read).then((res) => res.arrayBuffer()))).catch(
      () => {},
    )
  }
}

/** The platform's own way of opening a URL in the default browser. */
function openBrowser(target) {
  const [command, args] =
    process.platform === 'darwin'
      ? ['open', [target]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '', target]]
        : ['xdg-open', [target]]
  spawn(command, args, { stdio: 'ignore', detached: true })
    .on('error', () => console.log(`open ${target} in a browser`))
    .unref()
}

let cleaning
function cleanUp() {
  cleaning ??= stopAll()
  return cleaning
}

async function stopAll() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
  }
  const timeout = setTimeout(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL') // by pid
  }, 3000)
  await Promise.all(children.map((child) => child.exited))
  clearTimeout(timeout)
  // The demo's keys only (the database, and the cache's keys under its prefix); never FLUSHDB.
  if (redis.status === 'ready') {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 1000)
      if (keys.length > 0) await redis.unlink(...keys)
      cursor = next
    } while (cursor !== '0')
  }
  redis.disconnect()
}

// Ctrl-C: stop the children and delete the keys all the same.
process.once('SIGINT', () => cleanUp().then(() => process.exit(130)))

let exitCode = 0
try {
  await main()
} catch (error) {
  console.error(`fleet demo failed: ${error.message}`)
  exitCode = 1
}
await cleanUp()
process.exitCode = exitCode
