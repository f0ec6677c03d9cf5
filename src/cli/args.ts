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
 * A URL flag (or the variable standing in for it, `source` names which) of one of `protocols`, or
 * a usage error naming it — the same check and exit code (2) for every URL of every command. The
 * message shows what was given up to its scheme only when it parses (a URL may carry a password).
 */
export function urlFlag(
  value: string | undefined,
  source: string,
  protocols: readonly string[],
  example: string,
): URL | undefined {
  if (value === undefined) return undefined
  let url: URL | undefined
  try {
    url = new URL(value)
  } catch {
    url = undefined
  }
  if (url === undefined || !protocols.includes(url.protocol)) {
    const shown = url === undefined ? value.slice(0, 100) : `${url.protocol}//…`
    const schemes = protocols.map((protocol) => `${protocol}//`).join(' or ')
    throw new UsageError(
      `${source} must be a ${schemes} URL (e.g. ${example}), got ${JSON.stringify(shown)}`,
    )
  }
  return url
}

/**
 * A Redis URL (`redis://` or `rediss://`), from `--redis` or `REDIS_URL` (`source` names which), or
 * a usage error: a value ioredis would take as a host name or a path starts a service that is
 * degraded forever instead of refusing to start.
 */
export function redisUrlFlag(value: string | undefined, source: string): string | undefined {
  urlFlag(value, source, ['redis:', 'rediss:'], 'redis://127.0.0.1:6379')
  return value
}
