// A Redis server of the benchmark's own, for the scenarios that read the server's counters
// (`INFO commandstats`, `INFO cpu`): on a private server those count this benchmark alone, and
// nothing it does can disturb other users of a shared Redis. Started on a free port with
// persistence off (`--save '' --appendonly no`), stopped when the benchmark ends.

import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

import { Redis } from 'ioredis'

/** The redis-server binary: BENCH_REDIS_SERVER, else `redis-server` on PATH. */
const BINARY = process.env.BENCH_REDIS_SERVER ?? 'redis-server'

/** A free TCP port on 127.0.0.1 (the kernel picks one; the server binds it right after). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

let exitsOnSignals = false

/** SIGINT and SIGTERM end this process through `process.exit`, so its 'exit' handlers run. */
function exitOnSignals() {
  if (exitsOnSignals) return
  exitsOnSignals = true
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130))
}

/**
 * Starts a private redis-server and connects an admin client to it. Exits with 1, saying why,
 * when there is no redis-server to start. Returns `{ url, admin, version, stop() }`; `stop()`
 * ends the server (also done when this process exits).
 */
export async function startPrivateRedis(script) {
  const probe = spawnSync(BINARY, ['--version'], { encoding: 'utf8' })
  if (probe.error || probe.status !== 0) {
    console.error(
      `${script} starts a Redis server of its own and needs \`${BINARY}\` ` +
        `(apt-get install redis-server, or set BENCH_REDIS_SERVER): ${probe.error?.message ?? probe.stderr}`,
    )
    process.exit(1)
  }
  exitOnSignals()
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cgbench-redis-'))
  for (let attempt = 0; ; attempt++) {
    const port = await freePort()
    const server = spawn(
      BINARY,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--maxclients',
        '10000',
        '--loglevel',
        'warning',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    )
    let stderr = ''
    server.stderr.on('data', (chunk) => (stderr += chunk))
    const exited = new Promise((resolve) => server.once('exit', resolve))
    const kill = () => server.exitCode === null && server.kill('SIGKILL')
    process.once('exit', kill)
    const url = `redis://127.0.0.1:${port}`
    const admin = new Redis(url, { lazyConnect: true, retryStrategy: () => null })
    admin.on('error', () => {})
    const up = await connectWithin(admin, 5_000, exited)
    if (!up) {
      kill()
      process.removeListener('exit', kill)
      if (attempt < 2) continue
      rmSync(dir, { recursive: true, force: true })
      throw new Error(`${script}: redis-server on port ${port} did not start: ${stderr.trim()}`)
    }
    const version = /redis_version:(\S+)/.exec(await admin.info('server'))?.[1] ?? 'unknown'
    const stop = async () => {
      await admin.quit().catch(() => {})
      server.kill('SIGTERM')
      const timer = setTimeout(kill, 5_000)
      await exited
      clearTimeout(timer)
      process.removeListener('exit', kill)
      rmSync(dir, { recursive: true, force: true })
    }
    return { url, port, admin, version, stop }
  }
}

/** Connects `redis` (lazyConnect), retrying until `ms` pass or the server exits; true if up. */
async function connectWithin(redis, ms, exited) {
  let gone = false
  void exited.then(() => (gone = true))
  const deadline = Date.now() + ms
  while (!gone && Date.now() < deadline) {
    try {
      await redis.connect()
      await redis.ping()
      return true
    } catch {
      redis.disconnect()
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  return false
}

/**
 * `INFO commandstats`: calls by command name (`get`, `evalsha`, `client|setname`...), and the µs
 * of CPU the server spent in each.
 */
export async function commandCalls(admin) {
  const calls = {}
  const usec = {}
  const text = await admin.info('commandstats')
  for (const match of text.matchAll(/cmdstat_(\S+):calls=(\d+),usec=(\d+)/g)) {
    calls[match[1]] = Number(match[2])
    usec[match[1]] = Number(match[3])
  }
  return { calls, usec }
}

/** Seconds of CPU the server has used (`used_cpu_sys` + `used_cpu_user` of `INFO cpu`). */
export async function cpuSeconds(admin) {
  const info = await admin.info('cpu')
  const field = (name) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN)
  return field('used_cpu_sys') + field('used_cpu_user')
}

/**
 * What the server did between two snapshots: commands by name (every command it executed,
 * commands called inside scripts included; the snapshots' own INFO left out), and CPU seconds.
 */
export async function serverSnapshot(admin) {
  const [{ calls, usec }, cpu] = [await commandCalls(admin), await cpuSeconds(admin)]
  return { calls, usec, cpu, at: performance.now() }
}

export function serverDelta(before, after) {
  const commands = {}
  /** µs the server spent per call of each command, over the window. */
  const usPerCall = {}
  for (const [name, calls] of Object.entries(after.calls)) {
    if (name === 'info') continue
    const n = calls - (before.calls[name] ?? 0)
    if (n > 0) {
      commands[name] = n
      usPerCall[name] = (after.usec[name] - (before.usec[name] ?? 0)) / n
    }
  }
  const total = Object.values(commands).reduce((a, b) => a + b, 0)
  return {
    commands,
    usPerCall,
    total,
    cpuSeconds: after.cpu - before.cpu,
    seconds: (after.at - before.at) / 1000,
  }
}
