import { isCacheError } from '../../index.js'

/** Headers of every admin answer: nothing here may be cached by a browser, proxy or CDN. */
const COMMON = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' } as const

/** A JSON answer. */
export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...COMMON, 'content-type': 'application/json; charset=utf-8', ...headers },
  })
}

/** A plain text answer (`/metrics`). */
export function text(body: string, contentType: string): Response {
  return new Response(body, { status: 200, headers: { ...COMMON, 'content-type': contentType } })
}

/** A refusal with a status and a message safe to show the client. */
export class HttpError extends Error {
  readonly status: number
  readonly headers: Record<string, string>

  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message)
    this.name = 'HttpError'
    this.status = status
    this.headers = headers
  }
}

/** Codes of the cache errors that blame the request (a bad key, tag, pattern or namespace). */
const CLIENT_CODES = new Set([
  'E_INVALID_KEY',
  'E_INVALID_TAG',
  'E_INVALID_PATTERN',
  'E_INVALID_OPTION',
  'E_TOO_LARGE',
])

/** Whether `error` is the client's fault and its message may be shown as is. */
export const isClientError = (error: unknown): boolean =>
  error instanceof HttpError || (isCacheError(error) && CLIENT_CODES.has(error.code))

/**
 * The answer to an error thrown while serving a route: 4xx with the message for the client's
 * mistakes; 503 for everything else, since what fails behind a route is the cache or its store.
 * A cache error keeps its `code` (e.g. `E_INVALIDATION_NOT_RECORDED`: applied here and queued for
 * replay, not yet recorded in the store); other errors, which may name hosts or credentials,
 * answer a generic message.
 */
export function errorResponse(error: unknown): Response {
  if (error instanceof HttpError) return json(error.status, { error: error.message }, error.headers)
  if (isCacheError(error)) {
    // Input past a documented limit (SPEC §5b) is 413, other client mistakes 400.
    const status = error.code === 'E_TOO_LARGE' ? 413 : CLIENT_CODES.has(error.code) ? 400 : 503
    return json(status, { error: error.message, code: error.code })
  }
  return json(503, { error: 'cachegraph: the cache could not answer (store unavailable?)' })
}
