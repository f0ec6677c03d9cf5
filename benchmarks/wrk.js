// wrk, the C HTTP load generator the HTTP targets are measured with (SPEC §7): found on PATH, or
// installed from Debian (`apt-get update && apt-get install -y wrk`) when it is not there and this
// process may; and one run of it, parsed.

import { spawn, spawnSync } from 'node:child_process'

const onPath = () => spawnSync('sh', ['-c', 'command -v wrk'], { encoding: 'utf8' }).status === 0

/**
 * `{ ok: true }` when wrk can be run, installing it from Debian first if it is not on PATH (only
 * then, only as root with apt-get, and never with BENCH_NO_INSTALL=1); else `{ ok: false, reason }`.
 */
export function ensureWrk() {
  if (onPath()) return { ok: true, installed: false }
  const cannot = (why) => ({
    ok: false,
    reason: `wrk is not on PATH and was not installed: ${why} (install it with \`apt-get install -y wrk\`)`,
  })
  if (process.env.BENCH_NO_INSTALL === '1') return cannot('BENCH_NO_INSTALL=1')
  if (process.getuid?.() !== 0) return cannot('not running as root')
  if (spawnSync('sh', ['-c', 'command -v apt-get']).status !== 0) return cannot('no apt-get')
  console.log(
    'wrk is not on PATH: installing it from Debian (apt-get update && apt-get install -y wrk)...',
  )
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  for (const args of [['update'], ['install', '-y', 'wrk']]) {
    const result = spawnSync('apt-get', args, { stdio: 'inherit', env, timeout: 300_000 })
    if (result.status !== 0) return cannot(`apt-get ${args.join(' ')} failed (${result.status})`)
  }
  return onPath() ? { ok: true, installed: true } : cannot('apt-get installed no wrk on PATH')
}

/** A wrk duration (`1.23ms`, `850.00us`, `1.02s`) in ms. */
function toMs(text) {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text)
  if (!match) return NaN
  const scale = { us: 0.001, ms: 1, s: 1000, m: 60_000 }[match[2]]
  return Number(match[1]) * scale
}

/**
 * Runs `wrk -t<threads> -c<connections> -d<seconds>s --latency <url>` and returns requests/s,
 * the request count, non-2xx/3xx responses, socket errors and latency percentiles (ms).
 */
export function runWrk({ url, connections, threads, seconds }) {
  const args = [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--latency', url]
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk) => (out += chunk))
    child.stderr.on('data', (chunk) => (err += chunk))
    child.once('error', reject)
    child.once('exit', (code) => {
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(out)
      if (code !== 0 || !rps) {
        reject(new Error(`wrk ${args.join(' ')} failed (${code}): ${err || out}`))
        return
      }
      const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(
        out,
      )
      const latency = {}
      for (const [, p, value] of out.matchAll(/^\s+(50|75|90|99)%\s+(\S+)$/gm)) {
        latency[`p${p}`] = toMs(value)
      }
      resolve({
        requestsPerSecond: Number(rps[1]),
        requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN),
        non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
        socketErrors: socket ? socket.slice(1).reduce((n, x) => n + Number(x), 0) : 0,
        latencyMs: latency,
      })
    })
  })
}
