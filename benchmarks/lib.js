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
