import { json } from './responses.js'

/** Methods that change something: a page on another origin must not be able to send them. */
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * The refusal of a state-changing request that a page on another origin could have sent, or
 * undefined when it may go on. A browser can't be kept from *sending* a cross-site form or
 * `fetch(..., { mode: 'no-cors' })` with the admin's cookies or Basic credentials; the server
 * must refuse it (OWASP CSRF cheat sheet, "verifying origin with standard headers"):
 *
 * - `Origin` present and not this API's own (same host and port; the scheme is not compared,
 *   since adapters behind a TLS-terminating proxy see `http`) nor one of `origins` → 403.
 *   `Origin: null` (sandboxed frames, `file:`) is never this API's own.
 * - A body that is not JSON → 415: the only bodies a cross-site form can send without a CORS
 *   preflight are `text/plain`, `multipart/form-data` and `application/x-www-form-urlencoded`.
 *
 * Requests without `Origin` (servers, the CLI, curl) are not a browser's cross-site requests
 * and keep working.
 */
export function refuseCrossSite(
  request: Request,
  url: URL,
  origins: ReadonlySet<string>,
): Response | undefined {
  if (!STATE_CHANGING.has(request.method)) return undefined
  const origin = request.headers.get('origin')
  if (origin !== null && !origins.has(origin) && hostOf(origin) !== url.host) {
    return json(403, {
      error: `cachegraph: a state-changing request from origin ${JSON.stringify(origin.slice(0, 200))} is refused (add it to the admin API's \`origins\` to allow it)`,
    })
  }
  if (hasBody(request) && !isJson(request.headers.get('content-type'))) {
    return json(415, {
      error: "cachegraph: a request body must be JSON (content-type 'application/json')",
    })
  }
  return undefined
}

function hostOf(origin: string): string | undefined {
  try {
    const url = new URL(origin)
    return url.origin === 'null' ? undefined : url.host
  } catch {
    return undefined
  }
}

/** A body is announced by a length above zero, by chunked transfer, or by a content type. */
function hasBody(request: Request): boolean {
  const length = request.headers.get('content-length')
  if (length !== null) return length.trim() !== '0'
  return request.headers.has('transfer-encoding') || request.headers.has('content-type')
}

/** `application/json` or any `application/*+json`, parameters ignored. */
export function isJson(contentType: string | null): boolean {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'))
}

/**
 * The `origins` option, checked once: each an origin as browsers send it
 * (`https://ops.example.com`, no path or trailing slash).
 */
export function checkOrigins(origins: unknown): ReadonlySet<string> | string {
  if (origins === undefined) return new Set()
  if (!Array.isArray(origins)) return 'must be a list of origins'
  const set = new Set<string>()
  for (const origin of origins as unknown[]) {
    let parsed: URL | undefined
    try {
      parsed = typeof origin === 'string' ? new URL(origin) : undefined
    } catch {
      parsed = undefined
    }
    if (parsed === undefined || parsed.origin === 'null' || parsed.origin !== origin) {
      return `must hold origins such as 'https://ops.example.com' (scheme, host, optional port; no path), got ${JSON.stringify(origin)}`
    }
    set.add(origin)
  }
  return set
}
