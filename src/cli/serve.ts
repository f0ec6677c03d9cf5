import { parseArgs } from 'node:util'

import { createCache } from '../cache/create-cache.js'
import type { Cache } from '../index.js'
import { memoryStore } from '../stores/memory.js'
import { createInvalidationService } from '../service/service.js'
import { listen } from '../service/server.js'
import { apiKeys, intFlag, redisUrlFlag, sizeFlag } from './args.js'
import { EXIT, UsageError } from './exit-codes.js'
import { logLine } from './log-line.js'
import { captureConfig, POSTGRES_OPTIONS, startCapture } from './postgres.js'

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string', default: '127.0.0.1' },
  redis: { type: 'string' },
  prefix: { type: 'string', default: 'cg' },
  namespace: { type: 'string', default: 'cg' },
  'max-body': { type: 'string' },
  'api-key': { type: 'string', multiple: true },
  insecure: { type: 'boolean', default: false },
  ...POSTGRES_OPTIONS,
} as const

/**
 * `cachegraph serve`: starts the service, then waits for SIGTERM / SIGINT (the only signal
 * handlers of the package) and shuts down gracefully; resolves with the exit code.
 */
export async function serve(
  args: string[],
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<number> {
  const { values } = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: false })
  const say = (message: string) => log(logLine(message))
  const port = intFlag(values.port ?? env.PORT, '--port', 8080, 0, 65_535)
  const maxBodyBytes = sizeFlag(values['max-body'], '--max-body', 1_048_576)
  const keys = apiKeys(values['api-key'], env)
  if (keys.length === 0 && !values.insecure) {
    throw new UsageError(
      'no API key: pass --api-key KEY (or set CACHE_API_KEY / CACHE_API_KEYS), or --insecure to serve without one',
    )
  }
  const capture = captureConfig(values)
  const redisUrl =
    values.redis === undefined
      ? redisUrlFlag(env.REDIS_URL, 'REDIS_URL')
      : redisUrlFlag(values.redis, '--redis')
  const cache = await makeCache(values.namespace, redisUrl, values.prefix)
  // Ends the dashboard's event streams, which a graceful close would otherwise wait for.
  const closing = new AbortController()
  const handler = createInvalidationService({
    cache,
    signal: closing.signal,
    apiKeys: keys,
    insecure: keys.length === 0,
    maxBodyBytes,
    onError: (error) => say(error instanceof Error ? error.message : String(error)),
  })
  let server
  try {
    server = await listen({
      handler,
      port,
      host: values.host,
      maxBodyBytes,
      onClose: () => cache.close(),
    })
  } catch (error) {
    await cache.close()
    say(`cannot listen on ${values.host}:${port}: ${(error as Error).message}`)
    return EXIT.failed
  }
  const where =
    redisUrl === undefined
      ? "store: embedded memory store (in this process only: app processes don't see it; pass --redis to share)"
      : `store: redis ${redact(redisUrl)} (prefix '${values.prefix}', with bus)`
  say(`invalidation service on ${server.url} — namespace '${cache.name}', ${where}`)
  if (keys.length === 0) say('WARNING --insecure: anyone who reaches this port may invalidate')
  let postgres
  if (capture !== undefined) {
    try {
      postgres = await startCapture(capture, cache, say)
    } catch (error) {
      say(`postgres: cannot start: ${(error as Error).message}`)
      await server.close()
      return EXIT.failed
    }
  }
  say(`dashboard: ${server.url}/api/cache/ui (user name: any, password: an API key)`)

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', resolve)
    process.once('SIGINT', resolve)
  })
  say(`${signal}: finishing requests in flight, then stopping`)
  await postgres?.close()
  closing.abort()
  await server.close()
  say('stopped')
  return EXIT.ok
}

async function makeCache(
  namespace: string,
  redisUrl: string | undefined,
  prefix: string,
): Promise<Cache> {
  if (redisUrl === undefined) return createCache({ namespace, store: memoryStore() })
  // Loaded only when asked for: ioredis is an optional peer dependency.
  const { redisBus, redisStore } = await import('../redis/index.js')
  return createCache({ namespace, store: redisStore({ url: redisUrl, prefix }), bus: redisBus() })
}

/** The URL without its password, for the log. */
function redact(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(unparsable URL)'
  }
}
