import { afterEach } from 'vitest'

import { type Cache, type CacheOptions, createCache, memoryStore } from '../../../src/index.js'
import { redisStore } from '../../../src/redis/store.js'
import { redisClient, uniquePrefix } from '../../helpers/tiers.js'

/** The tiers the admin API must work on: L1 alone, the memory store and a real Redis. */
export const ADMIN_TIERS: [name: string, tiers: () => CacheOptions][] = [
  ['L1 only', () => ({})],
  ['memory store', () => ({ store: memoryStore() })],
  ['Redis', () => ({ store: redisStore({ client: redisClient(), prefix: uniquePrefix() }) })],
]

const open: Cache[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((cache) => cache.close()))
})

/** A cache closed after the test. */
export function makeCache(options: CacheOptions = {}): Cache {
  const cache = createCache({ namespace: 'app', ttl: '1h', ...options })
  open.push(cache)
  return cache
}

export const ORIGIN = 'http://admin.test'

/** A fetch Request for the handler: JSON-encodes `json`, with its content type. */
export function request(
  method: string,
  path: string,
  init: { json?: unknown; body?: RequestInit['body']; headers?: Record<string, string> } = {},
): Request {
  const headers = new Headers(init.headers)
  let body = init.body
  if (init.json !== undefined) {
    body = JSON.stringify(init.json)
    if (!headers.has('content-type')) headers.set('content-type', 'application/json')
  }
  // `duplex` (needed for stream bodies) is missing from Node 20's RequestInit type.
  const requestInit: RequestInit & { duplex: 'half' } = {
    method,
    headers,
    body: body ?? null,
    duplex: 'half',
  }
  return new Request(ORIGIN + path, requestInit)
}

/** The parsed JSON of an answer, after checking the headers every admin JSON answer carries. */
export async function jsonOf<T = Record<string, unknown>>(
  response: Response | undefined,
): Promise<T> {
  if (response === undefined) throw new Error('the handler did not answer')
  if (response.headers.get('content-type') !== 'application/json; charset=utf-8') {
    throw new Error(`not JSON: ${response.headers.get('content-type')}`)
  }
  if (response.headers.get('cache-control') !== 'no-store') throw new Error('cacheable answer')
  return (await response.json()) as T
}

/** One sample line of the Prometheus text format: `name{labels} value`. */
export const SAMPLE_LINE =
  /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*")(,[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*")*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/

/** `name{labels}` → value, checking every line is a comment or a sample. */
export function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>()
  const lines = text.split('\n')
  if (lines.pop() !== '') throw new Error('the exposition must end with a newline')
  for (const line of lines) {
    if (/^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/.test(line)) continue
    const match = SAMPLE_LINE.exec(line)
    if (match === null) throw new Error(`not a sample line: ${JSON.stringify(line)}`)
    const value = line.slice(line.lastIndexOf(' ') + 1)
    samples.set(line.slice(0, line.lastIndexOf(' ')), Number(value))
  }
  return samples
}
