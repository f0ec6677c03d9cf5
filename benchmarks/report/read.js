// Reading the result files of a benchmark run (results/*.json) for the report (report.js).

import { readdirSync, readFileSync } from 'node:fs'

import { median } from '../lib.js'

export const RESULTS = new URL('../results/', import.meta.url)

/** Every results/*.json by file name (without .json); unreadable files are reported, not fatal. */
export function readResults() {
  const results = {}
  const problems = []
  let names = []
  try {
    names = readdirSync(RESULTS).filter((name) => name.endsWith('.json'))
  } catch {
    problems.push('no results/ directory')
  }
  for (const name of names.sort()) {
    try {
      results[name.slice(0, -'.json'.length)] = JSON.parse(readFileSync(new URL(name, RESULTS)))
    } catch (error) {
      problems.push(`results/${name} could not be read: ${error.message}`)
    }
  }
  return { results, problems }
}

/** The commit a result records; older bus-latency files overwrote it with their figures. */
export function commitOf(result) {
  return typeof result.cachegraph === 'string' ? result.cachegraph : null
}

/** Median over rounds of `of / to`, from the per-round figures (null if a contestant is absent). */
export function perRoundRatio(result, of, to) {
  const rounds = (result.rounds ?? []).filter(
    (r) => Number.isFinite(r.opsPerSec?.[of]) && Number.isFinite(r.opsPerSec?.[to]),
  )
  if (rounds.length === 0) return null
  const ratios = rounds.map((r) => r.opsPerSec[of] / r.opsPerSec[to])
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) }
}
