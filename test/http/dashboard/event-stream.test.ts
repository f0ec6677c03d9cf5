import { afterEach, describe, expect, it, vi } from 'vitest'

import { createAdminHandler } from '../../../src/http/index.js'
import type { EventHubOptions } from '../../../src/http/index.js'
import { makeCache, request } from '../admin/admin-fixtures.js'
import { uniquePrefix } from '../../helpers/tiers.js'
import { fleetMember } from './fleet-fixture.js'

/** The event stream is bounded: a client that reads slowly or not at all costs a fixed amount. */
const decoder = new TextDecoder()

/** The data of the first `event` frame in `text`. */
function dataOf(text: string, event: string): Record<string, unknown> {
  const match = new RegExp(`event: ${event}\\ndata: (.*)\\n`).exec(text)
  if (match === null) throw new Error(`no ${event} event in ${text}`)
  return JSON.parse(match[1] as string) as Record<string, unknown>
}

/**
 * A reader that can take what is queued right now without waiting for more: a read of a
 * queued chunk resolves before a macrotask; one still pending is kept for the next call (a
 * dropped pending read would swallow the next chunk).
 */
class Client {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>
  #pending: ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']> | undefined

  constructor(response: Response) {
    this.#reader = response.body!.getReader()
  }

  #read() {
    return (this.#pending ??= this.#reader.read())
  }

  /** Text queued right now, `<done>` appended when the stream ended. */
  async drain(): Promise<string> {
    let text = ''
    for (;;) {
      const next = await Promise.race([
        this.#read(),
        new Promise<'empty'>((resolve) => setImmediate(() => resolve('empty'))),
      ])
      if (next === 'empty') return text
      this.#pending = undefined
      if (next.done) return `${text}<done>`
      text += decoder.decode(next.value)
    }
  }

  /** Reads until `text` has come (the test's timeout bounds it). */
  async until(text: string): Promise<string> {
    let seen = ''
    while (!seen.includes(text)) {
      const next = await this.#read()
      this.#pending = undefined
      if (next.done) throw new Error(`stream ended before ${JSON.stringify(text)}; got ${seen}`)
      seen += decoder.decode(next.value)
    }
    return seen
  }

  cancel() {
    return this.#reader.cancel()
  }
}

function stream(events: EventHubOptions = {}, signal?: AbortSignal) {
  const cache = makeCache()
  const admin = createAdminHandler({ cache, insecure: true, events, ...(signal ? { signal } : {}) })
  const open = async () => {
    const response = await admin(request('GET', '/api/cache/events'))
    return response as Response
  }
  return { cache, open }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('GET /events', () => {
  it('streams this process’s invalidations and deletions, with seq, source and pid', async () => {
    const { cache, open } = stream()
    const response = await open()
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-store')
    const reader = new Client(response)
    expect(await reader.until('event: stats')).toContain('event: hello')
    await cache.invalidate(['product:1', 'catalog'])
    const text = await reader.until('event: invalidation')
    const data = dataOf(text, 'invalidation')
    expect(data).toMatchObject({
      tags: ['product:1', 'catalog'],
      tag_count: 2,
      source: 'local',
      pid: process.pid,
    })
    expect(typeof data.seq).toBe('number')
    await cache.set('k', 1)
    await cache.delete('k')
    expect(await reader.until('event: delete')).toMatch(/"keys":\["[^"]*k"\],"key_count":1/)
    await reader.cancel()
  })

  it('names the process that sent an invalidation heard over the bus (its member id)', async () => {
    const prefix = uniquePrefix()
    const [one, two] = [await fleetMember(prefix), await fleetMember(prefix)]
    const admin = createAdminHandler({ cache: one.cache, insecure: true })
    const reader = new Client((await admin(request('GET', '/api/cache/events'))) as Response)
    await reader.until('event: stats')
    await two.cache.invalidate('product:9')
    let data: Record<string, unknown>
    do data = dataOf(await reader.until('event: invalidation'), 'invalidation')
    while (!(data.tags as string[]).includes('product:9'))
    const sender = (await two.cache.members()).find((member) => member.self)?.id
    expect(sender).toMatch(/^cachegraph-bus-/)
    expect(data).toMatchObject({ tags: ['product:9'], source: 'bus', origin: sender })
    await reader.cancel()
  })

  it('drops what a stalled client cannot take, then says how much with a gap event', async () => {
    const { cache, open } = stream({ queueBytes: 4_096 })
    const reader = new Client(await open())
    for (let i = 0; i < 500; i++) await cache.invalidate(`tag:${i}`)
    const queued = await reader.drain()
    // Bounded: the queue held at most its limit, not 500 events.
    expect(new TextEncoder().encode(queued).byteLength).toBeLessThanOrEqual(4_096)
    expect(queued).toContain('tag:0')
    expect(queued).not.toContain('tag:499')
    await cache.invalidate('after')
    const next = await reader.until('"after"')

    const shown = (queued.match(/event: invalidation/g) ?? []).length
    expect(dataOf(next, 'gap').dropped).toBe(500 - shown)
    await reader.cancel()
  })

  it('closes a stream whose client stopped reading for stallTicks ticks', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const { cache, open } = stream({ queueBytes: 1_024, tickMs: 1_000, stallTicks: 3 })
    const reader = new Client(await open())
    for (let i = 0; i < 100; i++) await cache.invalidate(`tag:${i}`)
    vi.advanceTimersByTime(2_000)
    expect(await reader.drain()).not.toContain('<done>') // two full ticks: still open
    // It drained: the count starts over.
    for (let i = 0; i < 100; i++) await cache.invalidate(`tag:${i}`)
    vi.advanceTimersByTime(3_000)
    await expect(reader.drain()).rejects.toThrow(/not read/)
  })

  it('sends stats every tick, so an idle stream is never silent', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const { open } = stream({ tickMs: 1_000 })
    const reader = new Client(await open())
    await reader.drain()
    vi.advanceTimersByTime(1_000)
    expect(await reader.drain()).toMatch(/^event: stats\ndata: \{"at":\d+,"hits":0/)
    await reader.cancel()
  })

  it('ends every stream when the cache closes', async () => {
    const { cache, open } = stream()
    const readers = [new Client(await open()), new Client(await open())]
    await Promise.all(readers.map((reader) => reader.until('event: hello')))
    await cache.close()
    for (const reader of readers) expect(await reader.drain()).toMatch(/<done>$/)
  })

  it('ends every stream when the cache closes through another namespace', async () => {
    const { cache, open } = stream()
    const reader = new Client(await open())
    await reader.until('event: hello')
    await cache.namespace('other').close()
    expect(await reader.drain()).toMatch(/<done>$/)
  })

  it('ends every stream when the admin signal aborts, and opens no more (503)', async () => {
    const closing = new AbortController()
    const { open } = stream({}, closing.signal)
    const reader = new Client(await open())
    await reader.until('event: hello')
    closing.abort()
    expect(await reader.drain()).toMatch(/<done>$/)
    expect((await open()).status).toBe(503)
  })

  it('answers 503 past maxStreams; a client that goes away frees its place', async () => {
    const { open } = stream({ maxStreams: 1 })
    const first = await open()
    expect(first.status).toBe(200)
    const second = await open()
    expect(second.status).toBe(503)
    expect(second.headers.get('retry-after')).toBe('5')
    await new Client(first).cancel()
    expect((await open()).status).toBe(200)
  })

  it('cuts the tags of a huge invalidation to the first 20, with the count', async () => {
    const { cache, open } = stream()
    const reader = new Client(await open())
    await cache.invalidate(Array.from({ length: 5_000 }, (_, i) => `t:${i}`))
    const text = await reader.until('event: invalidation')
    const data = dataOf(text, 'invalidation')
    expect(data.tags).toHaveLength(20)
    expect(data.tag_count).toBe(5_000)
    await reader.cancel()
  })
})
