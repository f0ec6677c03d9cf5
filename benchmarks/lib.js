// Helpers shared by the benchmarks.

import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'

/** `text` as a positive integer, else `fallback` (for BENCH_* environment variables). */
export function positiveInt(text, fallback) {
  const n = Number(text)
  return Number.isInteger(n) && n > 0 ? n : fallback
}

export function median(xs) {
  const s = xs.slice().sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}

export function percentile(xs, p) {
  const s = xs.slice().sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]
}

/** The cachegraph source measured: commit, with `+dirty` when src/ has uncommitted changes. */
function sourceRevision() {
  try {
    const cwd = new URL('..', import.meta.url)
    const git = (...args) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim()
    const commit = git('rev-parse', '--short', 'HEAD')
    return git('status', '--porcelain', '--', 'src') === '' ? commit : `${commit}+dirty`
  } catch {
    return null
  }
}

/** Where and on what the figures were measured. */
export function environment() {
  const cpus = os.cpus()
  return {
    date: new Date().toISOString(),
    node: process.version,
    cores: cpus.length,
    cpu: cpus[0]?.model ?? null,
    platform: `${os.platform()} ${os.arch()}`,
    cachegraph: sourceRevision(),
  }
}

/** One line describing `env`, for the printed reports. */
export function describe(env) {
  return `Node ${env.node}, ${env.cores} cores (${env.cpu ?? 'unknown cpu'}), cachegraph ${env.cachegraph ?? '?'}`
}

/** Writes `result` to results/<name>.json and says so. */
export function writeResult(name, result) {
  const dir = new URL('./results/', import.meta.url)
  mkdirSync(dir, { recursive: true })
  const file = new URL(`${name}.json`, dir)
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`)
  console.log(`\nwritten to ${file.pathname}`)
}

/** Deterministic PRNG (mulberry32), so every run shuffles the keys the same way. */
export function prng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Medians over rounds: ops/sec per contestant (with min and max), and each ratio's median of the
 * per-round ratios. `rounds` holds `{ opsPerSec, ratios }` by id.
 */
export function summarize(rounds, contestants, ratioIds) {
  const spread = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) })
  const summary = {}
  for (const c of contestants) {
    const s = spread(rounds.map((r) => r.opsPerSec[c.id]))
    summary[c.id] = { label: c.label, medianOpsPerSec: s.median, min: s.min, max: s.max }
  }
  const ratios = {}
  for (const id of ratioIds) ratios[id] = spread(rounds.map((r) => r.ratios[id]))
  return { summary, ratios }
}

/** Prints the ops/sec table and the ratio table of a throughput benchmark. */
export function printThroughput(contestants, summary, ratios, width) {
  const ops = (n) => Math.round(n).toLocaleString('en-US').padStart(12)
  const ratio = (n) => n.toFixed(3).padStart(8)
  console.log(
    `${'contestant'.padEnd(width)} ${'ops/sec'.padStart(12)} ${'min'.padStart(12)} ${'max'.padStart(12)}`,
  )
  for (const c of contestants) {
    const s = summary[c.id]
    console.log(`${c.label.padEnd(width)} ${ops(s.medianOpsPerSec)} ${ops(s.min)} ${ops(s.max)}`)
  }
  console.log('(ops/sec: median over rounds)')
  console.log()
  console.log(
    `${'ratio (median of per-round ratios)'.padEnd(width)} ${'median'.padStart(8)} ${'min'.padStart(8)} ${'max'.padStart(8)}`,
  )
  for (const [id, r] of Object.entries(ratios)) {
    console.log(`${id.padEnd(width)} ${ratio(r.median)} ${ratio(r.min)} ${ratio(r.max)}`)
  }
}

/**
 * Deletes every Redis key containing `marker` (SCAN + UNLINK, never KEYS or FLUSH*); returns how
 * many. Benchmarks write under a marker of their own and clean up with this.
 */
export async function deleteKeysContaining(redis, marker) {
  let deleted = 0
  let cursor = '0'
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `*${marker}*`, 'COUNT', 1000)
    cursor = next
    if (found.length > 0) deleted += await redis.unlink(...found)
  } while (cursor !== '0')
  return deleted
}

/** ioredis options for a redis:// URL, for libraries that open their own connections from them. */
export function ioredisOptions(redisUrl) {
  const url = new URL(redisUrl)
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.pathname.length > 1 ? { db: Number(url.pathname.slice(1)) } : {}),
  }
}

/**
 * Connects `redis` (made with `lazyConnect: true` and no retries), or exits with 1 saying which
 * server `script` needs: benchmarks fail fast, and clearly, without a Redis.
 */
export async function connectOrExit(redis, script, redisUrl) {
  let connectError
  redis.on('error', (error) => (connectError ??= error))
  try {
    await redis.connect()
  } catch (error) {
    const reason = (connectError ?? error).message
    console.error(`${script} needs a Redis server at ${redisUrl} (set REDIS_URL): ${reason}`)
    process.exit(1)
  }
}

/**
 * Runs `op(n)` with `inFlight` async workers, each awaiting one call at a time, until `ms` have
 * passed (no new call starts after that; those in flight finish). Returns the calls completed and
 * the seconds it took, up to the last one finishing.
 */
export async function runFor(ms, inFlight, op) {
  const started = performance.now()
  const deadline = started + ms
  let next = 0
  const worker = async () => {
    while (performance.now() < deadline) await op(next++)
  }
  await Promise.all(Array.from({ length: inFlight }, worker))
  return { ops: next, seconds: (performance.now() - started) / 1000 }
}
