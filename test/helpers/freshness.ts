import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

import { inject } from 'vitest'

/** The repository's root, where the freshness checker runs. */
export const REPO = fileURLToPath(new URL('../../', import.meta.url))

/**
 * Runs the freshness checker (`scripts/freshness/main.ts`) with `args` on the run's Redis and
 * parses the JSON report it prints (`--json` must be among `args`); rejects, with what it wrote
 * to stderr, when it exits without one.
 */
export function runChecker<R>(
  args: string[],
): Promise<{ code: number | null; report: R; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'scripts/freshness/main.ts', ...args],
      {
        cwd: REPO,
        env: { ...process.env, REDIS_URL: inject('redisUrl') },
      },
    )
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code) => {
      try {
        resolve({ code, report: JSON.parse(stdout) as R, stderr })
      } catch {
        reject(new Error(`freshness checker exited ${code} without a report:\n${stderr}`))
      }
    })
  })
}
