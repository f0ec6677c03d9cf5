import { UsageError } from './exit-codes.js'

/** An integer flag in `min..max`, or a usage error naming the flag. */
export function intFlag(
  value: string | undefined,
  flag: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined || value === '') return fallback
  const parsed = Number(value)
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new UsageError(
      `${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`,
    )
  }
  return parsed
}

/** `1048576`, `512k`, `1m` → bytes. */
export function sizeFlag(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined || value === '') return fallback
  const match = /^(\d+)\s*([km]?)b?$/i.exec(value.trim())
  const unit = { '': 1, k: 1024, m: 1024 * 1024 }[match?.[2]?.toLowerCase() ?? '']
  const bytes = match === null || unit === undefined ? NaN : Number(match[1]) * unit
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new UsageError(
      `${flag} must be a size in bytes (e.g. 1048576, 512k, 1m), got ${JSON.stringify(value)}`,
    )
  }
  return bytes
}

/** The API keys of `--api-key` (repeatable), `CACHE_API_KEY` and `CACHE_API_KEYS` (comma-separated). */
export function apiKeys(flags: string[] | undefined, env: NodeJS.ProcessEnv): string[] {
  const all = [
    ...(flags ?? []),
    env.CACHE_API_KEY ?? '',
    ...(env.CACHE_API_KEYS ?? '').split(','),
  ].map((key) => key.trim())
  return [...new Set(all.filter((key) => key !== ''))]
}

/**
 * A Redis URL (`redis://` or `rediss://`), from `--redis` or `REDIS_URL` (`source` names which), or
 * a usage error: a value ioredis would take as a host name or a path starts a service that is
 * degraded forever instead of refusing to start.
 */
export function redisUrlFlag(value: string | undefined, source: string): string | undefined {
  if (value === undefined) return undefined
  let url: URL | undefined
  try {
    url = new URL(value)
  } catch {
    url = undefined
  }
  if (url === undefined || (url.protocol !== 'redis:' && url.protocol !== 'rediss:')) {
    const shown = url === undefined ? value.slice(0, 100) : `${url.protocol}//…`
    throw new UsageError(
      `${source} must be a redis:// or rediss:// URL (e.g. redis://127.0.0.1:6379), got ${JSON.stringify(shown)}`,
    )
  }
  return value
}
