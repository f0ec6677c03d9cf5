import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

import { afterEach, describe, expect, it } from 'vitest'

import { createInvalidationClient, isCacheError } from '../../src/client/index.js'
import { createCache } from '../../src/index.js'
import { createInvalidationService, listen } from '../../src/service/index.js'
import { closedPort } from '../cli/spawn.js'
import { deferred } from '../helpers/deferred.js'
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

function client(options: Parameters<typeof createInvalidationClient>[0]) {
  const c = createInvalidationClient({ retry: { minDelay: 1, maxDelay: 5 }, ...options })
  cleanup.push(() => c.close())
  return c
}

describe('invalidation client', () => {
  it('sends one entity in the seed body, with x-api-key, and returns at once', async () => {
    const s = await server()
    const c = client({ apiUrl: s.url, apiKey: 'k' })
    const started = performance.now()
    c.flushCache({ entityId: 123, entityType: 'product' })
    const elapsed = performance.now() - started
    expect(elapsed).toBeLessThan(5)
    await c.flush()
    expect(s.received).toHaveLength(1)
    expect(s.received[0]?.body).toEqual({ entity_id: 123, entity_type: 'product' })
    expect(s.received[0]?.headers['x-api-key']).toBe('k')
  })

  it('coalesces duplicates and batches what was queued together into a list', async () => {
    const s = await server()
    const c = client({ apiUrl: s.url })
    c.invalidate(['a', 'b', 'a'])
    c.flushCache({ entityId: 1, entityType: 'user' })
    c.flushCache({ entityId: '1', entityType: 'user' })
    c.flushCache({ entityId: 2, entityType: 'user' })
    c.invalidate('b')
    expect(c.pending).toBe(4)
    await c.flush()
    expect(s.received.map((r) => r.body)).toEqual([
      [
        { entity_id: 1, entity_type: 'user' },
        { entity_id: 2, entity_type: 'user' },
        { tags: ['a', 'b'] },
      ],
    ])
  })

  it("reports the service's answer with `sent`: the real service's step, parsed", async () => {
    const cache = createCache()
    const service = await listen({
      handler: createInvalidationService({ cache, apiKeys: ['k'] }),
      port: 0,
      onClose: () => cache.close(),
    })
    cleanup.push(() => service.close())
    const c = client({ apiUrl: service.url, apiKey: 'k' })
    const events = recordEvents(c)
    const before = (await cache.invalidate('warm-up')).seq
    c.invalidate('t')
    await c.flush()
    expect(events.sent).toHaveLength(1)
    const body = events.sent[0]?.body as { status: string; seq: number; tags: string[] }
    expect(body).toMatchObject({ status: 'invalidated', tags: ['t'] })
    expect(body.seq).toBeGreaterThan(before)
    // `ack: true` asks the service to answer once the fleet applied it (`?ack=1`).
    const acking = client({ apiUrl: service.url, apiKey: 'k', ack: true })
    const ackEvents = recordEvents(acking)
    acking.invalidate('t')
    await acking.flush()
    expect(ackEvents.sent[0]?.body).toMatchObject({ status: 'invalidated', tags: ['t'] })
    expect(() => createInvalidationClient({ apiUrl: service.url, ack: 'yes' as never })).toThrow(
      /`ack`/,
    )
    // A server that answers something else: its text, as it came.
    const other = await server()
    const plain = client({ apiUrl: other.url })
    const plainEvents = recordEvents(plain)
    plain.invalidate('t')
    await plain.flush()
    expect(plainEvents.sent[0]?.body).toEqual({ status: 'invalidated' })
  })

  it('splits batches at batch.maxSize', async () => {
    const s = await server()
    const c = client({ apiUrl: s.url, batch: { maxSize: 2 } })
    c.invalidate(['a', 'b', 'c'])
    await c.flush()
    expect(s.received.map((r) => r.body)).toEqual([{ tags: ['a', 'b'] }, { tags: ['c'] }])
  })

  it('retries 5xx with backoff, then succeeds', async () => {
    const s = await server((n) => (n <= 2 ? 503 : 200))
    const c = client({ apiUrl: s.url })
    const events = recordEvents(c)
    c.invalidate('t')
    await c.flush()
    expect(s.received).toHaveLength(3)
    expect(events.retry.map((e) => e.attempt)).toEqual([1, 2])
    expect(events.sent).toHaveLength(1)
    expect(events.sent[0]?.attempts).toBe(3)
    expect(events.dropped).toEqual([])
  })

  it('gives up at once on 4xx and reports it', async () => {
    const s = await server(() => 400)
    const c = client({ apiUrl: s.url })
    const events = recordEvents(c)
    c.invalidate('t')
    await c.flush()
    expect(s.received).toHaveLength(1)
    expect(events.retry).toEqual([])
    expect(events.dropped.map((e) => e.reason)).toEqual(['rejected'])
    expect(events.error[0]?.error.message).toMatch(/400/)
  })

  it('retries an unreachable service, then reports the loss', async () => {
    const port = await closedPort()
    const c = client({
      apiUrl: `http://127.0.0.1:${port}/cache/invalidate`,
      retry: { retries: 3, minDelay: 1, maxDelay: 2 },
    })
    const events = recordEvents(c)
    c.invalidate('t')
    await c.flush()
    expect(events.retry).toHaveLength(3)
    expect(events.error).toHaveLength(4)
    expect(events.error[0]?.error.message).toMatch(/cannot reach/)
    expect(events.dropped).toHaveLength(1)
    expect(events.dropped[0]).toMatchObject({ reason: 'failed', items: [{ tag: 't' }] })
  })

  it('times out a request that gets no answer, and retries it', async () => {
    const hold = deferred<number>()
    const s = await server((n) => (n === 1 ? hold.promise : 200))
    const c = client({ apiUrl: s.url, timeout: 50 })
    const events = recordEvents(c)
    c.invalidate('t')
    await c.flush()
    hold.resolve(200)
    expect(events.retry[0]?.error.message).toMatch(/no answer within 50 ms/)
    expect(events.sent).toHaveLength(1)
    expect(s.received).toHaveLength(2)
  })

  it('survives a service restart without losing queued invalidations', async () => {
    const first = await scriptedServer()
    const { port } = first
    await first.close()
    const c = client({
      apiUrl: `http://127.0.0.1:${port}/cache/invalidate`,
      retry: { retries: 5, minDelay: 20, maxDelay: 20 },
    })
    let restarted: ReturnType<typeof scriptedServer> | undefined
    c.on('retry', () => {
      restarted ??= scriptedServer(() => 200, port)
    })
    const events = recordEvents(c)
    c.invalidate(['a', 'b'])
    await c.flush()
    const s = await restarted!
    cleanup.push(s.close)
    expect(events.sent).toHaveLength(1)
    expect(s.received.map((r) => r.body)).toEqual([{ tags: ['a', 'b'] }])
  })

  it('reports a full queue instead of growing it', async () => {
    const s = await server()
    const c = client({ apiUrl: s.url, maxQueue: 2 })
    const events = recordEvents(c)
    c.invalidate(['a', 'b', 'c'])
    expect(events.dropped).toEqual([
      expect.objectContaining({ reason: 'overflow', items: [{ tag: 'c' }] }),
    ])
    await c.flush()
    expect(s.received.map((r) => r.body)).toEqual([{ tags: ['a', 'b'] }])
  })

  it('flush() waits for the request in flight; close() drains, then refuses more', async () => {
    const hold = deferred<number>()
    const s = await server(() => hold.promise)
    const c = createInvalidationClient({ apiUrl: s.url })
    const events = recordEvents(c)
    c.invalidate('t')
    let flushed = false
    const flushing = c.flush().then(() => (flushed = true))
    await s.requests(1)
    expect(flushed).toBe(false)
    const closing = c.close()
    hold.resolve(200)
    await Promise.all([flushing, closing])
    expect(events.sent).toHaveLength(1)
    c.invalidate('later')
    expect(events.dropped).toEqual([expect.objectContaining({ reason: 'closed' })])
  })

  it('never throws into the caller: bad input is reported, bad options are refused at creation', () => {
    const s = createInvalidationClient({ apiUrl: 'http://127.0.0.1:1' })
    const events = recordEvents(s)
    expect(() => s.flushCache({ entityId: '', entityType: '' })).not.toThrow()
    expect(() => s.invalidate([''] as string[])).not.toThrow()
    expect(() => s.flushCache(undefined as never)).not.toThrow()
    expect(events.dropped.map((e) => e.reason)).toEqual(['rejected', 'rejected', 'rejected'])
    expect(() => createInvalidationClient({ apiUrl: 'not a url' })).toThrow(/`apiUrl`/)
    let thrown: unknown
    try {
      createInvalidationClient({ apiUrl: 'not a url' })
    } catch (error) {
      thrown = error
    }
    expect(isCacheError(thrown, 'E_INVALID_OPTION')).toBe(true)
    expect(events.dropped.every((e) => isCacheError(e.error, 'E_INVALID_TAG'))).toBe(true)
  })
})

describe('drains when the event loop empties', () => {
  it('a process that queued invalidations sends them before exiting', async () => {
    // Each body's first request fails: both clients go through a backoff timer.
    const seen = new Set<string>()
    const s = await server((_, { body }) => {
      const id = JSON.stringify(body)
      if (seen.has(id)) return 200
      seen.add(id)
      return 503
    })
    const root = fileURLToPath(new URL('../../', import.meta.url))
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/client/fixtures/exit-drain.ts', s.url],
      {
        cwd: root,
        env: { ...process.env, CACHE_INVALIDATION_URL: s.url, CACHE_API_KEY: 'env-key' },
      },
    )
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const code = await new Promise((resolve) => child.on('close', resolve))
    expect(code).toBe(0)
    expect(stdout).toMatch(/sent after 2 attempts/)
    const bodies = s.received.map((r) => r.body)
    expect(bodies).toContainEqual({ entity_id: 1, entity_type: 'user' })
    expect(bodies).toContainEqual({ entity_id: 2, entity_type: 'user' })
    expect(
      s.received.find((r) => (r.body as { entity_id: number }).entity_id === 2)?.headers[
        'x-api-key'
      ],
    ).toBe('env-key')
    expect(stderr).toMatch(/not a URL/)
  })
})
