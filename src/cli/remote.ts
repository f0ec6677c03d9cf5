import { parseArgs } from 'node:util'

import { invalidationBody, type OutgoingInvalidation } from '../protocol/invalidation.js'
import { intFlag, urlFlag } from './args.js'
import { EXIT, UsageError } from './exit-codes.js'
import { logLine } from './log-line.js'

const COMMON = {
  url: { type: 'string' },
  'api-key': { type: 'string' },
  timeout: { type: 'string' },
} as const

const DEFAULT_URL = new URL('http://127.0.0.1:8080')

interface Io {
  out: (line: string) => void
  err: (line: string) => void
}

/** `cachegraph invalidate --tag T | --entity type:id | --key K ...` */
export async function invalidate(args: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      ...COMMON,
      tag: { type: 'string', multiple: true },
      entity: { type: 'string', multiple: true },
      key: { type: 'string', multiple: true },
    },
  })
  const items: OutgoingInvalidation[] = (values.entity ?? []).map((entity) => {
    const at = entity.indexOf(':')
    if (at <= 0 || at === entity.length - 1) {
      throw new UsageError(`--entity must be type:id (e.g. user:1), got ${JSON.stringify(entity)}`)
    }
    return { entityType: entity.slice(0, at), entityId: entity.slice(at + 1) }
  })
  for (const tag of values.tag ?? []) items.push({ tag })
  const keys = values.key ?? []
  if (items.length === 0 && keys.length === 0) {
    throw new UsageError('give at least one --tag, --entity or --key')
  }
  // One entity goes out as the seed's body; anything more as a list.
  const body = invalidationBody(items, keys)
  return call('POST', '/cache/invalidate', values, env, io, body)
}

/** `cachegraph stats` */
export async function stats(args: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  const { values } = parseArgs({ args, strict: true, options: COMMON })
  return call('GET', '/api/cache/stats', values, env, io)
}

async function call(
  method: string,
  path: string,
  values: { url?: string; 'api-key'?: string; timeout?: string },
  env: NodeJS.ProcessEnv,
  io: Io,
  body?: unknown,
): Promise<number> {
  const source = values.url !== undefined ? '--url' : 'CACHEGRAPH_URL'
  const given = values.url ?? env.CACHEGRAPH_URL
  const base = urlFlag(given, source, ['http:', 'https:'], 'http://127.0.0.1:8080') ?? DEFAULT_URL
  const timeout = intFlag(values.timeout, '--timeout', 5_000, 1, 600_000)
  const url = new URL(path, base)
  const key = sentKey(values['api-key'], env.CACHE_API_KEY)
  const headers: Record<string, string> = key === undefined ? {} : { 'x-api-key': key.value }
  if (body !== undefined) headers['content-type'] = 'application/json'
  let response: Response
  let text: string
  try {
    response = await fetch(url, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeout),
    })
    text = await response.text()
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause
    const why = cause?.code ?? cause?.message ?? (error as Error).message
    io.err(logLine(`cannot reach ${url.origin}: ${why}`))
    return EXIT.unreachable
  }
  if (response.status === 401) {
    io.err(logLine(`401: ${unauthorized(key)}`))
    return EXIT.failed
  }
  if (!response.ok) {
    io.err(logLine(`${response.status} ${response.statusText}: ${text}`))
    return EXIT.failed
  }
  io.out(text)
  return EXIT.ok
}

/** The key to send and where it came from; an empty one is no key. */
function sentKey(
  flag: string | undefined,
  env: string | undefined,
): { value: string; source: string } | undefined {
  if (flag !== undefined && flag !== '') return { value: flag, source: '--api-key' }
  if (env !== undefined && env !== '') return { value: env, source: 'CACHE_API_KEY' }
  return undefined
}

/** Why a 401: no key was sent at all, or the one sent is not one the service accepts. */
function unauthorized(key: { source: string } | undefined): string {
  if (key === undefined) return 'no key was sent — pass --api-key or set CACHE_API_KEY'
  return `the key was refused (from ${key.source}) — it is not one of the service's --api-key / CACHE_API_KEYS`
}
