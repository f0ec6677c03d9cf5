import { toMs } from '../../util/duration.js'
import type { Duration } from '../../index.js'
import { CacheError, invalidOption } from '../../errors.js'

/** How a purger retries: on network errors, timeouts, 5xx and 429, with exponential backoff. */
export interface PurgeRetryOptions {
  /** Retries after the first attempt. @default 3 */
  retries?: number
  /** Delay before the first retry; doubled each time, with jitter. @default '100ms' */
  minDelay?: Duration
  /** Longest delay between attempts. @default '2s' */
  maxDelay?: Duration
  /** Time limit of one attempt. @default '5s' */
  timeout?: Duration
}

export interface ResolvedRetry {
  retries: number
  minDelayMs: number
  maxDelayMs: number
  timeoutMs: number
}

export function resolveRetry(retry: PurgeRetryOptions = {}, option: string): ResolvedRetry {
  const retries = retry.retries ?? 3
  if (!Number.isInteger(retries) || retries < 0) {
    throw invalidOption(`${option}.retries`, 'must be an integer >= 0')
  }
  return {
    retries,
    minDelayMs: toMs(retry.minDelay ?? '100ms', `${option}.minDelay`),
    maxDelayMs: toMs(retry.maxDelay ?? '2s', `${option}.maxDelay`),
    timeoutMs: toMs(retry.timeout ?? '5s', `${option}.timeout`),
  }
}

/** A request to a purge API; `what` names it in errors (`'fastly purge'`). */
export interface PurgeRequest {
  url: string
  method: string
  headers: Record<string, string>
  body?: string
  what: string
}

/**
 * Sends `request` until it succeeds (2xx) or fails for good: a 4xx other than 429, or the last
 * retry. Rejects with `E_PURGE_FAILED` (the last error or response kept as `cause`).
 */
export async function sendWithRetry(request: PurgeRequest, retry: ResolvedRetry): Promise<string> {
  let lastError: unknown
  for (let attempt = 0; attempt <= retry.retries; attempt++) {
    if (attempt > 0) await sleep(backoff(attempt, retry))
    let response: Response
    try {
      response = await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        ...(request.body === undefined ? {} : { body: request.body }),
        signal: AbortSignal.timeout(retry.timeoutMs),
      })
    } catch (error) {
      lastError = error
      continue
    }
    const text = await response.text().catch(() => '')
    if (response.ok) return text
    lastError = new Error(`HTTP ${response.status}: ${text.slice(0, 200)}`)
    if (response.status !== 429 && response.status < 500) break
  }
  throw new CacheError('E_PURGE_FAILED', `cachegraph: ${request.what} failed`, {
    cause: lastError,
  })
}

function backoff(attempt: number, retry: ResolvedRetry): number {
  const base = Math.min(retry.maxDelayMs, retry.minDelayMs * 2 ** (attempt - 1))
  return base / 2 + (Math.random() * base) / 2
}

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms).unref())

/** `list` in consecutive slices of at most `size`. */
export function batches<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size))
  return out
}
