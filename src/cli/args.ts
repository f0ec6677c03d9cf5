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
