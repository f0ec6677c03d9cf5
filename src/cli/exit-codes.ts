/** Exit codes scripts can rely on (also in `cachegraph --help`). */
export const EXIT = {
  /** Done: the server answered 2xx, or `serve` shut down cleanly. */
  ok: 0,
  /** The server refused or failed the request (a non-2xx answer), or `serve` could not start. */
  failed: 1,
  /** Bad usage: unknown command or flag, a bad value, `serve` without an API key. */
  usage: 2,
  /** The server could not be reached (connection refused, DNS, timeout). */
  unreachable: 3,
} as const

/** A usage mistake: reported with a hint, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}
