import { spawn } from 'node:child_process'

import { afterEach, describe, expect, it } from 'vitest'

import { closedPort, ROOT, serve, type Served } from './spawn.js'

const running: Served[] = []
afterEach(async () => {
  for (const one of running.splice(0)) {
    if (one.child.exitCode === null) {
      one.child.kill('SIGKILL')
      await one.exited
    }
  }
})

/**
 * Runs `cachegraph serve ...args` until it exits or says it listens (then it is stopped, and
 * `listened` is true): a refusal must come before the service starts, not instead of an answer.
 */
function start(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stderr: string; listened: boolean }> {
  return new Promise((resolve, reject) => {
    const clean = { ...process.env }
    for (const name of ['PORT', 'REDIS_URL', 'CACHE_API_KEY', 'CACHE_API_KEYS']) delete clean[name]
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0', '--insecure', ...args],
      { cwd: ROOT, env: { ...clean, ...env } },
    )
    let stderr = ''
    let listened = false
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
      if (!listened && /service on http/.test(stderr)) {
        listened = true
        child.kill('SIGKILL')
      }
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stderr, listened }))
  })
}

describe('cachegraph serve: inputs and logs', () => {
  it('refuses a --redis that is not a Redis URL (exit 2, naming the flag)', async () => {
    const result = await start(['--redis', 'notaurl'])
    expect(result.listened).toBe(false)
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/--redis/)
    expect(result.stderr).toMatch(/notaurl/)
    for (const url of ['http://127.0.0.1:6379', 'localhost:6379', 'redis://host:notaport']) {
      const refused = await start(['--redis', url])
      expect(refused.code, url).toBe(2)
      expect(refused.listened, url).toBe(false)
    }
  })

  it('refuses a REDIS_URL that is not a Redis URL, naming the variable', async () => {
    const result = await start([], { REDIS_URL: 'notaurl' })
    expect(result.listened).toBe(false)
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/REDIS_URL/)
  })

  it('logs a failed 100k-tag invalidation in one bounded line, prefixed once', async () => {
    // A Redis URL nothing answers on: the service starts, the store fails every call.
    const service = await serve([
      '--insecure',
      '--max-body',
      '4m',
      '--redis',
      `redis://127.0.0.1:${await closedPort()}`,
    ])
    running.push(service)
    const tags = Array.from({ length: 100_000 }, (_, i) => `tag-${i}`)
    const response = await fetch(`${service.url}/cache/invalidate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tags }),
    })
    expect(response.status).toBe(503)
    await service.waitFor(/invalidation/)
    const lines = service.log().split('\n')
    expect(lines.filter((line) => line.includes('cachegraph: cachegraph:'))).toEqual([])
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(1_000)
    expect(service.log()).toMatch(/100000 tags/)
    expect(service.log()).not.toContain('tag-99999')
  })
})
