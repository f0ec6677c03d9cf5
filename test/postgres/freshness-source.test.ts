import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

import { expect, inject, it } from 'vitest'

import type { Report } from '../../scripts/freshness/report.js'
import { SHARED_URL } from './helpers.js'

/**
 * The freshness checker's source mode, short: writers commit to PostgreSQL alone and never call
 * `invalidate()`; the change capture must invalidate every write, and no read judged after a
 * write was recorded may be stale beyond the bus allowance. Tests the BUILT library (`dist/`):
 * run `npm run build` first when running this file alone.
 */
const REPO = fileURLToPath(new URL('../../', import.meta.url))

it('source writes: nothing missed, no forbidden stale read', { timeout: 90_000 }, async () => {
  const args = ['--duration', '7s', '--readers', '3', '--writers', '2', '--db', 'postgres']
  const { code, report, stderr } = await new Promise<{
    code: number | null
    report: Report
    stderr: string
  }>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'scripts/freshness/main.ts',
        ...args,
        '--write-paths',
        'source',
        '--json',
      ],
      {
        cwd: REPO,
        env: { ...process.env, REDIS_URL: inject('redisUrl'), FRESHNESS_PG_URL: SHARED_URL },
      },
    )
    let stdout = ''
    let err = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()))
    child.on('error', reject)
    child.on('close', (exit) => {
      try {
        resolve({ code: exit, report: JSON.parse(stdout) as Report, stderr: err })
      } catch {
        reject(new Error(`freshness checker exited ${exit} without a report:\n${err}`))
      }
    })
  })
  expect(report.callerErrorExamples, stderr).toEqual([])
  expect(report.examples).toEqual([])
  expect(report.forbidden).toBe(0)
  expect(report.writesVia.source).toBe(report.writes)
  expect(report.writes).toBeGreaterThan(20)
  expect(report.captureLagMs?.count).toBe(report.writes)
  expect(code).toBe(0)
})
