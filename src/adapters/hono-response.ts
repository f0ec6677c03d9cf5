import type { Context } from 'hono'

import { splitUrl } from '../http/index.js'
import type { CapturedResponse, HttpExchange } from '../http/index.js'

/** Bodies made by `c.text()`, `c.json()`, `c.html()`, `c.body()` from text or bytes. */
export type Bodies = WeakMap<ReadableStream, 'text' | 'bytes'>

/**
 * The request as the core sees it: the raw target, not Hono's parsed one. Its host is `Host`
 * (else the URL's), or with `trustProxy` the last `X-Forwarded-Host` entry — the one the
 * nearest proxy wrote, as Fastify takes it.
 */
export function exchange(c: Context, trustProxy: boolean): HttpExchange<Context> {
  const url = c.req.url
  const start = url.indexOf('/', url.indexOf('://') + 3)
  const { path, query } = splitUrl(url.slice(start))
  const headers = c.req.raw.headers
  const forwarded = trustProxy ? headers.get('x-forwarded-host')?.split(',').pop()?.trim() : ''
  const host = forwarded || headers.get('host') || url.slice(url.indexOf('://') + 3, start)
  return {
    request: c,
    method: c.req.method,
    path,
    query,
    host,
    header: (n) => headers.get(n) ?? undefined,
  }
}

/** The response as the core sees it; a body not known to be text or bytes is a stream. */
export async function captured(c: Context, bodies: Bodies): Promise<CapturedResponse> {
  const res = c.res
  const headers: Record<string, string | string[]> = {}
  res.headers.forEach((value, name) => void (headers[name] = value))
  const cookies = res.headers.getSetCookie()
  if (cookies.length > 0) headers['set-cookie'] = cookies
  const kind = res.body === null ? 'none' : bodies.get(res.body)
  const body =
    kind === 'none'
      ? ''
      : kind === 'text'
        ? await res.clone().text()
        : kind === 'bytes'
          ? new Uint8Array(await res.clone().arrayBuffer())
          : undefined
  return { status: res.status, headers, body, failed: c.error !== undefined }
}

/** Notes which response bodies the context's helpers made from text or bytes. */
export function recordBodies(c: Context): Bodies {
  const bodies: Bodies = new WeakMap()
  const note = (response: Response, data: unknown): Response => {
    const kind =
      typeof data === 'string'
        ? 'text'
        : data instanceof Uint8Array || data instanceof ArrayBuffer
          ? 'bytes'
          : undefined
    if (kind !== undefined && response.body !== null) bodies.set(response.body, kind)
    return response
  }
  const { body, text, json, html } = c
  c.body = ((data: unknown, ...rest: never[]) =>
    note((body as (...args: unknown[]) => Response)(data, ...rest), data)) as typeof body
  c.text = ((data: string, ...rest: never[]) => note(text(data, ...rest), data)) as typeof text
  c.json = ((data: unknown, ...rest: never[]) =>
    note((json as (...args: unknown[]) => Response)(data, ...rest), '')) as typeof json
  c.html = ((data: unknown, ...rest: never[]) => {
    const made = (html as (...args: unknown[]) => Response | Promise<Response>)(data, ...rest)
    return made instanceof Promise ? made.then((r) => note(r, '')) : note(made, '')
  }) as typeof html
  return bodies
}
