import { randomUUID } from 'node:crypto'

import { Redis } from 'ioredis'
import type { CacheEntry } from 'next/dist/server/lib/cache-handlers/types.js'
import type { IncrementalCacheValue } from 'next/dist/server/response-cache/types.js'
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest'

import { type Cache, createCache } from '../../src/index.js'
import { createCacheHandler, createIncrementalCacheHandler } from '../../src/next/index.js'
import { redisBus, redisStore } from '../../src/redis/index.js'

const client = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 })
const caches: Cache[] = []
afterEach(async () => {
  await Promise.all(caches.splice(0).map((cache) => cache.close()))
})
afterAll(async () => {
  await client.quit()
})

/** Two Next.js instances: two caches, each with its own L1 and bus, on one Redis prefix. */
async function fleet(): Promise<[Cache, Cache]> {
  const prefix = `cgtest:${randomUUID()}`
  const make = () =>
    createCache({
      store: redisStore({ client, prefix }),
      bus: redisBus({ maxSilence: '10s' }),
    })
  const pair: [Cache, Cache] = [make(), make()]
  caches.push(...pair)
  await Promise.all(pair.map(trusted))
  return pair
}

function trusted(cache: Cache): Promise<void> {
  if (cache.stats().bus?.trusted !== false) return Promise.resolve()
  return new Promise((resolve) => {
    const listener = () => {
      cache.off('bus:trusted', listener)
      resolve()
    }
    cache.on('bus:trusted', listener)
  })
}

/** Resolves once `cache`'s bus delivered the invalidation `updateTags` ends with. */
function heardUpdate(cache: Cache): Promise<void> {
  return new Promise((resolve) => {
    const listener = ({ tags }: { tags: readonly string[] }) => {
      if (!tags.some((tag) => tag.endsWith('next:tags'))) return
      cache.off('bus:invalidate', listener)
      resolve()
    }
    cache.on('bus:invalidate', listener)
  })
}

const encoder = new TextEncoder()
function streamOf(text: string): ReadableStream<Uint8Array> {
  const [a, b] = [text.slice(0, 3), text.slice(3)]
  return new ReadableStream({
    start(controller) {
      controller.enqueue(encoder.encode(a))
      controller.enqueue(encoder.encode(b))
      controller.close()
    },
  })
}
const textOf = (stream: ReadableStream<Uint8Array>) => new Response(stream).text()

function entry(text: string, tags: string[], over: Partial<CacheEntry> = {}): CacheEntry {
  return {
    value: streamOf(text),
    tags,
    stale: 300,
    timestamp: performance.timeOrigin + performance.now(),
    expire: 3600,
    revalidate: 900,
    ...over,
  }
}

describe('createCacheHandler (use cache)', () => {
  it('serves on one instance what the other set, with its metadata and a new stream per get', async () => {
    const [one, two] = await fleet()
    const a = createCacheHandler({ cache: one })
    const b = createCacheHandler({ cache: two })
    const written = entry('<p>hello</p>', ['posts'])
    await a.set('k', Promise.resolve(written))
    const first = await b.get('k', [])
    const second = await b.get('k', [])
    expect(first && second).toBeTruthy()
    expect(first?.value).not.toBe(second?.value)
    expect(await textOf(first!.value)).toBe('<p>hello</p>')
    expect(await textOf(second!.value)).toBe('<p>hello</p>')
    expect(first).toMatchObject({
      tags: ['posts'],
      stale: 300,
      expire: 3600,
      revalidate: 900,
      timestamp: written.timestamp,
    })
    // The same process too.
    expect(await textOf((await a.get('k', []))!.value)).toBe('<p>hello</p>')
    expect(await b.get('other', [])).toBeUndefined()
  })

  it('makes a get during a pending set of the same key wait for it', async () => {
    const [one] = await fleet()
    const handler = createCacheHandler({ cache: one })
    let resolveEntry!: (entry: CacheEntry) => void
    const setting = handler.set('k', new Promise((resolve) => (resolveEntry = resolve)))
    const getting = handler.get('k', [])
    resolveEntry(entry('late', ['t']))
    await setting
    const got = await getting
    expect(got).toBeDefined()
    expect(await textOf(got!.value)).toBe('late')
  })

  it('does not store a failed entry or a dynamic one (expire 0), and a waiting get misses', async () => {
    const [one] = await fleet()
    const handler = createCacheHandler({ cache: one })
    const failing = handler.set('k', Promise.reject(new Error('render failed')))
    const getting = handler.get('k', [])
    await failing
    expect(await getting).toBeUndefined()
    await handler.set('d', Promise.resolve(entry('dynamic', [], { expire: 0 })))
    expect(await handler.get('d', [])).toBeUndefined()
  })

  it('updateTags on one instance makes the other miss once its bus delivered it', async () => {
    const [one, two] = await fleet()
    const a = createCacheHandler({ cache: one })
    const b = createCacheHandler({ cache: two })
    await a.set('k', Promise.resolve(entry('v1', ['posts'])))
    await a.set('other', Promise.resolve(entry('kept', ['users'])))
    expect(await b.get('k', [])).toBeDefined() // now in instance 2's L1
    const heard = heardUpdate(two)
    await a.updateTags(['posts'])
    await heard
    expect(await b.get('k', [])).toBeUndefined()
    expect(await a.get('k', [])).toBeUndefined()
    expect(await textOf((await b.get('other', []))!.value)).toBe('kept')
  })

  it('with ack, the other instance misses as soon as updateTags resolved', async () => {
    const [one, two] = await fleet()
    const a = createCacheHandler({ cache: one, ack: true })
    const b = createCacheHandler({ cache: two, ack: true })
    await a.set('k', Promise.resolve(entry('v1', ['posts'])))
    expect(await b.get('k', [])).toBeDefined()
    await a.updateTags(['posts'])
    expect(await b.get('k', [])).toBeUndefined()
  })

  it('checks soft tags in get (revalidatePath), on every instance', async () => {
    const [one, two] = await fleet()
    const a = createCacheHandler({ cache: one, ack: true })
    const b = createCacheHandler({ cache: two, ack: true })
    expect(await a.getExpiration(['_N_T_/blog'])).toBe(Infinity)
    await a.set('k', Promise.resolve(entry('page', ['posts'])))
    expect(await b.get('k', ['_N_T_/blog'])).toBeDefined()
    await a.updateTags(['_N_T_/blog'])
    expect(await b.get('k', ['_N_T_/blog'])).toBeUndefined()
    expect(await b.get('k', ['_N_T_/about'])).toBeDefined()
    // An entry written after the revalidation is fresh under the same soft tag.
    await b.set('k', Promise.resolve(entry('page 2', ['posts'])))
    expect(await textOf((await b.get('k', ['_N_T_/blog']))!.value)).toBe('page 2')
  })

  it('with durations.expire serves the entry with revalidate -1 until the expiry, then misses', async () => {
    const [one, two] = await fleet()
    const a = createCacheHandler({ cache: one, ack: true })
    const b = createCacheHandler({ cache: two, ack: true })
    await a.set('k', Promise.resolve(entry('v1', ['posts'])))
    await a.updateTags(['posts'], { expire: 3600 })
    const stale = await b.get('k', [])
    expect(stale?.revalidate).toBe(-1)
    expect(await textOf(stale!.value)).toBe('v1')
    // Expiring now (expire 0): a miss everywhere.
    await a.updateTags(['posts'], { expire: 0 })
    expect(await b.get('k', [])).toBeUndefined()
  })

  it('does not store an entry whose tags were invalidated while it was being rendered', async () => {
    const [one, two] = await fleet()
    const a = createCacheHandler({ cache: one, ack: true })
    let resolveEntry!: (entry: CacheEntry) => void
    const setting = a.set('k', new Promise((resolve) => (resolveEntry = resolve)))
    // Let the set take its start token before the invalidation.
    await one.begin()
    await a.updateTags(['posts'])
    // Stamped after the revalidation: only the start token can tell it was rendered before.
    resolveEntry(entry('rendered before', ['posts']))
    await setting
    expect(await createCacheHandler({ cache: two }).get('k', [])).toBeUndefined()
  })
})

const html = '<html>page</html>'
const appPage = (tags: string): IncrementalCacheValue =>
  ({
    kind: 'APP_PAGE',
    html,
    rscData: Buffer.from('rsc-bytes'),
    status: 200,
    postponed: undefined,
    headers: { 'x-next-cache-tags': tags, 'content-type': 'text/html' },
    segmentData: new Map([
      ['/_tree', Buffer.from('tree')],
      ['/page', Buffer.from('segment')],
    ]),
  }) as unknown as IncrementalCacheValue

const responseCtx = { kind: 'APP_PAGE', isFallback: false } as never
const fetchValue = (body: string): IncrementalCacheValue =>
  ({
    kind: 'FETCH',
    data: { headers: { 'content-type': 'application/json' }, body, status: 200, url: 'https://x' },
    tags: ['products'],
    revalidate: 60,
  }) as unknown as IncrementalCacheValue

describe('createIncrementalCacheHandler (ISR, route handlers, fetch cache)', () => {
  async function pair(ack = false) {
    const [one, two] = await fleet()
    const ctx = { revalidatedTags: [] } as never
    const A = createIncrementalCacheHandler({ cache: one, ack })
    const B = createIncrementalCacheHandler({ cache: two, ack })
    return { one, two, a: new A(ctx), b: new B(ctx), B }
  }

  it('round-trips an app page through Redis with Buffers where Next expects them', async () => {
    const { a, b } = await pair()
    await a.set('/blog', appPage('posts,_N_T_/blog'), {
      cacheControl: { revalidate: 60, expire: 3600 },
    })
    const got = await b.get('/blog', responseCtx)
    expect(got).not.toBeNull()
    const value = got!.value as unknown as {
      html: string
      rscData: Buffer
      segmentData: Map<string, Buffer>
      headers: Record<string, string>
    }
    expect(value.html).toBe(html)
    expect(Buffer.isBuffer(value.rscData)).toBe(true)
    expect(value.rscData.toString()).toBe('rsc-bytes')
    expect(value.segmentData).toBeInstanceOf(Map)
    expect([...value.segmentData.keys()]).toEqual(['/_tree', '/page'])
    expect([...value.segmentData.values()].every((v) => Buffer.isBuffer(v))).toBe(true)
    expect(value.segmentData.get('/page')!.toString()).toBe('segment')
    expect(value.headers['x-next-cache-tags']).toBe('posts,_N_T_/blog')
    expect(got!.cacheControl).toEqual({ revalidate: 60, expire: 3600 })
    expect(typeof got!.lastModified).toBe('number')
  })

  it('round-trips route handler bodies and images as Buffers, and redirects and pages as objects', async () => {
    const { a, b } = await pair()
    const route = { kind: 'APP_ROUTE', body: Buffer.from('{"ok":1}'), status: 201, headers: {} }
    const image = {
      kind: 'IMAGE',
      etag: 'e',
      upstreamEtag: 'u',
      buffer: Buffer.from([0, 1, 2, 255]),
      extension: 'webp',
    }
    const pages = {
      kind: 'PAGES',
      html: '<p/>',
      pageData: { a: [1] },
      status: 200,
      headers: {},
    }
    const redirect = { kind: 'REDIRECT', props: { destination: '/x' } }
    for (const [key, value] of Object.entries({ route, image, pages, redirect })) {
      await a.set(key, value as never, {})
    }
    const got = async (key: string) =>
      (await b.get(key, responseCtx))!.value as unknown as Record<string, unknown>
    const body = (await got('route')).body
    expect(Buffer.isBuffer(body) && body.toString()).toBe('{"ok":1}')
    const buffer = (await got('image')).buffer
    expect(Buffer.isBuffer(buffer) && [...buffer]).toEqual([0, 1, 2, 255])
    expect(await got('pages')).toEqual(pages)
    expect(await got('redirect')).toEqual(redirect)
  })

  it('revalidateTag on one instance expires a page by its x-next-cache-tags on the other', async () => {
    const { a, b, two } = await pair()
    await a.set('/blog', appPage('posts'), {})
    await a.set('/about', appPage('about'), {})
    expect(await b.get('/blog', responseCtx)).not.toBeNull()
    const heard = heardUpdate(two)
    await a.revalidateTag('posts')
    await heard
    expect(await b.get('/blog', responseCtx)).toBeNull()
    expect(await b.get('/about', responseCtx)).not.toBeNull()
  })

  it('with ack, at once; with durations the page is stale (lastModified -1) until it expires', async () => {
    const { a, b } = await pair(true)
    await a.set('/blog', appPage('posts'), {})
    expect(await b.get('/blog', responseCtx)).not.toBeNull()
    await a.revalidateTag(['posts'], { expire: 3600 })
    expect((await b.get('/blog', responseCtx))?.lastModified).toBe(-1)
    await a.revalidateTag(['posts'])
    expect(await b.get('/blog', responseCtx)).toBeNull()
  })

  it('tags fetches with ctx.tags and checks ctx.softTags on get', async () => {
    const { a, b } = await pair(true)
    const fetchCtx = { kind: 'FETCH', tags: ['cart'], softTags: ['_N_T_/shop'] } as never
    await a.set('f1', fetchValue('{"n":1}'), { fetchCache: true, tags: ['cart'] } as never)
    const got = await b.get('f1', fetchCtx)
    expect((got?.value as { data: { body: string } } | null)?.data.body).toBe('{"n":1}')
    await a.revalidateTag('cart') // a tag of the fetch context only
    expect(await b.get('f1', fetchCtx)).toBeNull()

    await a.set('f2', fetchValue('{"n":2}'), { fetchCache: true, tags: [] } as never)
    expect(await b.get('f2', fetchCtx)).not.toBeNull()
    await b.revalidateTag('_N_T_/shop') // revalidatePath('/shop') on the other instance
    expect(await a.get('f2', fetchCtx)).toBeNull()
    expect(await a.get('f2', { kind: 'FETCH', tags: [], softTags: [] } as never)).not.toBeNull()
  })

  it('misses a fetch whose tag this request revalidated', async () => {
    const { a, one } = await pair()
    await a.set('f', fetchValue('{}'), { fetchCache: true, tags: ['cart'] } as never)
    const Handler = createIncrementalCacheHandler({ cache: one })
    const request = new Handler({ revalidatedTags: ['cart'] } as never)
    expect(await request.get('f', { kind: 'FETCH', tags: ['cart'] } as never)).toBeNull()
    request.resetRequestCache()
  })
})
