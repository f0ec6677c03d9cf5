/**
 * When to try a failed request again: exponential backoff with full jitter (a delay drawn
 * uniformly between 0 and the ceiling, the ceiling doubling from `minDelay` up to `maxDelay`).
 * Full rather than partial jitter because the clients of one service tend to fail together — a
 * restart fails all of them at once — and full jitter spreads their retries the most, for the
 * fewest requests in all (the AWS Architecture Blog's "Exponential Backoff And Jitter").
 */
export interface Backoff {
  minDelay: number
  maxDelay: number
  /** Most retries of one request. */
  retries: number
  /** How long after its first failure a request is still retried, in ms. */
  maxTime: number
}

/**
 * The delay before retry number `attempt` (1 for the first retry), or `undefined` when the
 * request is given up on: too many retries, or `maxTime` since its first failure has passed.
 * The last retry is moved up to the deadline rather than skipped, so a service that is back by
 * then is reached.
 */
export function nextDelay(
  policy: Backoff,
  attempt: number,
  elapsedSinceFirstFailure: number,
  random: number,
): number | undefined {
  if (attempt > policy.retries) return undefined
  const left = policy.maxTime - elapsedSinceFirstFailure
  if (left <= 0) return undefined
  const ceiling = Math.min(policy.maxDelay, policy.minDelay * 2 ** (attempt - 1))
  return Math.round(Math.min(left, random * ceiling))
}
