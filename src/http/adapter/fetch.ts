import type { CapturedResponse, HttpExchange, ReplayResponse } from '../types.js'
import { splitUrl } from '../url.js'

/**
 * A fetch `Request` as the core sees it: the raw target, not a framework's parsed one. Its host
 * is `Host` (else the URL's), or with `trustProxy` the last `X-Forwarded-Host` entry — the one
 * the nearest proxy wrote, as Fastify takes it.
 */
export function fetchExchange<R>(
  context: R,
  request: Request,
  trustProxy: boolean,
): HttpExchange<R> {
  const url = request.url
  const start = url.indexOf('/', url.indexOf('://') + 3)
  const { path, query } = splitUrl(url.slice(start))
  const headers = request.headers
  const forwarded = trustProxy ? headers.get('x-forwarded-host')?.split(',').pop()?.trim() : ''
  const host = forwarded || headers.get('host') || url.slice(url.indexOf('://') + 3, start)
  return {
    request: context,
    method: request.method,
    path,
    query,
    host,
    header: (n) => headers.get(n) ?? undefined,
  }
}

/** What the bodies of an app's fetch `Response`s were made from, as its helpers noted them. */
export class BodyKinds {
  readonly #kinds = new WeakMap<ReadableStream, 'text' | 'bytes'>()

  /** `response` was made from `data`: text or bytes are noted (JSON, HTML: pass `''`). */
  note(response: Response, data: unknown): Response {
    const kind =
      typeof data === 'string'
        ? 'text'
        : data instanceof Uint8Array || data instanceof ArrayBuffer
          ? 'bytes'
          : undefined
    if (kind !== undefined && response.body !== null) this.#kinds.set(response.body, kind)
    return response
  }

  /** What the body of `response` was made from; `undefined`: not noted (a stream). */
  of(response: Response): 'text' | 'bytes' | undefined {
    return response.body === null ? undefined : this.#kinds.get(response.body)
  }
}

/**
 * A fetch `Response` as the core sees it. `kind` says what its body was made from (see
 * {@link BodyKinds}) — text or bytes are read (from a clone), anything else is a stream, never
 * stored.
 */
export async function capturedFetch(
  res: Response,
  kind: 'text' | 'bytes' | undefined,
  failed: boolean,
): Promise<CapturedResponse> {
  const headers: Record<string, string | string[]> = {}
  res.headers.forEach((value, name) => void (headers[name] = value))
  const cookies = res.headers.getSetCookie()
  if (cookies.length > 0) headers['set-cookie'] = cookies
  const body =
    res.body === null
      ? ''
      : kind === 'text'
        ? await res.clone().text()
        : kind === 'bytes'
          ? new Uint8Array(await res.clone().arrayBuffer())
          : undefined
  return { status: res.status, headers, body, failed }
}

/** A cached response as a fetch `Response`: repeated headers (`Set-Cookie`) appended one by one. */
export function replayFetch({ status, headers, body }: ReplayResponse): Response {
  const replayed = new Headers()
  for (const [name, value] of Object.entries(headers)) {
    for (const item of typeof value === 'string' ? [value] : value) replayed.append(name, item)
  }
  return new Response(body ?? null, { status, headers: replayed })
}
