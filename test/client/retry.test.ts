import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

import { afterEach, describe, expect, it } from 'vitest'

import { createClientWithTiming, createInvalidationClient } from '../../src/client/client.js'
import { closedPort } from '../cli/spawn.js'
import { deferred } from '../helpers/deferred.js'
import { fastTiming } from './fast-timing.js'
import { recordEvents } from './record-events.js'
import { scriptedServer } from './scripted-server.js'

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

async function server(...args: Parameters<typeof scriptedServer>) {
  const s = await scriptedServer(...args)
  cleanup.push(s.close)
  return s
}

describe('retries by time', () => {
  it('a batch the service applied but whose answer was lost is sent again, not dropped', async () => {
    // Five answers lost in a row: more than the old budget of 3 retries.
    const s = await server((n) => (n <= 5 ? 'hang-up' : 200))
    const c = createInvalidationClient({ apiUrl: s.url, retry: { minDelay: 1, maxDelay: 5 } })
    cleanup.push(() => c.close())
    const events = recordEvents(c)
    c.invalidate(['a', 'b'])
    await c.flush()
    expect(events.dropped).toEqual([])
    expect(events.sent).toHaveLength(1)
    expect(events.sent[0]?.attempts).toBe(6)
    // Every attempt carried the same batch: the service may apply it twice, which is harmless.
    expect(new Set(s.received.map((r) => JSON.stringify(r.body)))).toEqual(
      new Set([JSON.stringify({ tags: ['a', 'b'] })]),
    )
  })

  it('gives a batch up after retry.maxTime (default 60 s) since its first failure', async () => {
    const port = await closedPort()
    // 60 s of the client's clock in about 0.6 s.
    const timing = fastTiming(100)
    const c = createClientWithTiming({ apiUrl: `http://127.0.0.1:${port}` }, timing)
    const events = recordEvents(c)
    const firstError = deferred<number>()
    c.on('error', () => firstError.resolve(timing.now()))
    let droppedAt = 0
    c.on('dropped', () => (droppedAt = timing.now()))
    c.invalidate('t')
    await c.flush()
    const elapsed = droppedAt - (await firstError.promise)
    expect(events.dropped).toEqual([
      expect.objectContaining({ reason: 'failed', items: [{ tag: 't' }] }),
    ])
    expect(elapsed).toBeGreaterThanOrEqual(60_000)
    expect(elapsed).toBeLessThan(120_000) // given up then, not retried on and on
    expect(events.retry.length).toBeGreaterThan(10)
  })

  it('retry.maxTime and retry.retries bound it as configured; Infinity is allowed', async () => {
    const port = await closedPort()
    const url = `http://127.0.0.1:${port}`
    const byCount = createInvalidationClient({
      apiUrl: url,
      retry: { retries: 2, maxTime: Infinity, minDelay: 1, maxDelay: 1 },
    })
    const counted = recordEvents(byCount)
    byCount.invalidate('t')
    await byCount.flush()
    expect(counted.retry).toHaveLength(2)
    expect(counted.dropped[0]?.reason).toBe('failed')
    expect(() => createInvalidationClient({ apiUrl: url, retry: { maxTime: -1 } })).toThrow(
      /retry\.maxTime/,
    )
    expect(() => createInvalidationClient({ apiUrl: url, retry: { maxTime: NaN } })).toThrow(
      /retry\.maxTime/,
    )
  })

  it('draws each delay uniformly below the doubling ceiling (full jitter)', async () => {
    const s = await server((n) => (n <= 4 ? 503 : 200))
    const delays = async (random: number) => {
      // Defaults: ceilings 100, 200, 400, 800 ms; a fast clock keeps the test short.
      const c = createClientWithTiming(
        { apiUrl: s.url },
        fastTiming(50, () => random),
      )
      const events = recordEvents(c)
      c.invalidate(`t${random}`)
      await c.flush()
      s.received.length = 0
      return events.retry.map((e) => e.delayMs)
    }
    expect(await delays(0.999)).toEqual([100, 200, 400, 799])
    const low = await delays(0.1)
    expect(low).toEqual([10, 20, 40, 80]) // below half the ceiling: the jitter is full
    expect(await delays(0)).toEqual([0, 0, 0, 0])
  })
})

describe('an exit with work pending', () => {
  const root = fileURLToPath(new URL('../../', import.meta.url))

  async function exitWithPending(mode: 'listen' | 'warn') {
    const hold = deferred<number>()
    const s = await server(() => hold.promise)
    cleanup.push(async () => hold.resolve(200))
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/client/fixtures/exit-lost.ts', s.url, mode],
      { cwd: root },
    )
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const code = await new Promise((resolve) => child.on('close', resolve))
    return { code, stdout, stderr }
  }

  it('process.exit() with invalidations queued and in flight prints how many were lost', async () => {
    const { code, stderr } = await exitWithPending('warn')
    expect(code).toBe(0)
    expect(stderr).toMatch(
      /CachegraphClientWarning: cachegraph\/client: the process exited with 250 invalidation\(s\) not sent \(150 queued, 100 in flight and unconfirmed\)/,
    )
    expect(stderr).toMatch(/await client\.flush\(\) or client\.close\(\) before process\.exit\(\)/)
  })

  it("tells a 'dropped' listener instead, synchronously, with reason exit", async () => {
    const { code, stdout, stderr } = await exitWithPending('listen')
    expect(code).toBe(0)
    expect(stdout).toBe('dropped exit 250\n')
    expect(stderr).not.toMatch(/CachegraphClientWarning/)
  })
})
