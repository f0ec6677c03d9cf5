// The Next.js example in one command: builds the app, then starts two instances of it on one
// Redis, so a revalidation in one is seen at once by the other.
// Run: npm run build && node examples/next/run.mjs   (REDIS_URL, default redis://127.0.0.1:6379;
// PORTS, default 3001,3002). Ctrl-C stops both.
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'

import { Redis } from 'ioredis'

const dir = fileURLToPath(new URL('.', import.meta.url))
const next = fileURLToPath(new URL('../../node_modules/next/dist/bin/next', import.meta.url))
const ports = (process.env.PORTS ?? '3001,3002').split(',')
const env = {
  ...process.env,
  NEXT_TELEMETRY_DISABLED: '1',
  CACHEGRAPH_PREFIX: process.env.CACHEGRAPH_PREFIX ?? `cgnext-${randomBytes(3).toString('hex')}`,
  CACHEGRAPH_ACK: process.env.CACHEGRAPH_ACK ?? '1',
}

const build = spawnSync(process.execPath, [next, 'build', dir], { env, stdio: 'inherit' })
if (build.status !== 0) process.exit(build.status ?? 1)

const children = ports.map((port, i) => {
  const child = spawn(process.execPath, [next, 'start', dir, '-p', port], {
    env: { ...env, PORT: port },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const prefix = `[instance ${i + 1}] `
  const print = (chunk) =>
    process.stdout.write(
      String(chunk)
        .split('\n')
        .filter(Boolean)
        .map((line) => prefix + line + '\n')
        .join(''),
    )
  child.stdout.on('data', print)
  child.stderr.on('data', print)
  child.on('exit', (code) => {
    if (!stopping) {
      console.error(`${prefix}exited with ${code}`)
      void stop(1)
    }
  })
  return child
})

const [a, b] = ports.map((port) => `http://127.0.0.1:${port}`)
console.log(`
Two instances on one Redis (prefix ${env.CACHEGRAPH_PREFIX}):
  ${a}/posts   ${b}/posts    'use cache' + cacheTag('posts')
  ${a}/price   ${b}/price    fetch(…, { next: { tags: ['price'] } })
  ${a}/isr/1   ${b}/isr/1    ISR page
Rename the posts with the form at ${a}/ (a server action calling updateTag), or:
  curl -X POST ${a}/api/revalidate -H 'content-type: application/json' \\
    -d '{"name":"price","value":"v2","tags":["price"]}'
then reload ${b}/price.
`)

let stopping = false
async function stop(code = 0) {
  if (stopping) return
  stopping = true
  process.exitCode = code
  await Promise.all(
    children.map((child) =>
      child.exitCode === null && child.signalCode === null
        ? new Promise((resolve) => (child.once('exit', resolve), child.kill('SIGTERM')))
        : null,
    ),
  )
  // The run's keys (cache entries, tag records, the example's database) go with it.
  const redis = new Redis(env.REDIS_URL ?? 'redis://127.0.0.1:6379')
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(
      cursor,
      'MATCH',
      `${env.CACHEGRAPH_PREFIX}:*`,
      'COUNT',
      1000,
    )
    if (keys.length > 0) await redis.unlink(...keys)
    cursor = next
  } while (cursor !== '0')
  await redis.quit()
}
process.on('SIGINT', () => void stop())
process.on('SIGTERM', () => void stop())
