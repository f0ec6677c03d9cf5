/** One POST of a batch to the service, and what its outcome means for the batch. */
export type Attempt =
  | { ok: true; status: number; body: unknown }
  /** `retryable`: a network error, a timeout or a 5xx; a 4xx is not (the request is wrong). */
  | { ok: false; error: Error; retryable: boolean }

export async function post(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeout: number,
): Promise<Attempt> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(timeout),
    })
    const text = await response.text().catch(() => '')
    if (response.ok) return { ok: true, status: response.status, body: parsed(text) }
    return {
      ok: false,
      error: new Error(
        `cachegraph/client: the service answered ${response.status}: ${text.slice(0, 200)}`,
      ),
      retryable: response.status >= 500,
    }
  } catch (cause) {
    // Also a connection that closed after the request went out: the service may have applied
    // the batch and lost only its answer. Sending it again is safe, invalidation is idempotent.
    const reason =
      cause instanceof Error && cause.name === 'TimeoutError'
        ? `no answer within ${timeout} ms`
        : describe(cause)
    return {
      ok: false,
      error: new Error(`cachegraph/client: cannot reach ${url}: ${reason}`, { cause }),
      retryable: true,
    }
  }
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause
  if (typeof cause?.code === 'string') return cause.code
  if (typeof cause?.message === 'string') return cause.message
  return error instanceof Error ? error.message : String(error)
}

/** A service's answer as JSON when it is, else its text (servers other than cachegraph's). */
function parsed(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return text
  }
}
