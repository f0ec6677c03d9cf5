import type { ServerResponse } from 'node:http'

import type { CapturedResponse } from '../types.js'

type Headers = Readonly<Record<string, string>>
type Method = 'writeHead' | 'write' | 'end' | 'send'
type Call = { method: 'write' | 'end'; args: unknown[] }

/** What `hold` needs of a response: Node's, and a framework's `send` when it has one (Express). */
export type HeldResponse = ServerResponse & { send?(body?: unknown): unknown }

/** A response being held: {@link Hold.restore} lets calls through again, untouched. */
export interface Hold {
  restore(): void
}

/**
 * Holds what a handler sends on a Node response (Express's included, from `res.send`/`res.json`
 * down to `res.end`), and hands it
 * to `onResponse` before anything reaches the socket; the response goes out, with the headers
 * `onResponse` resolves with, once it resolves. A handler that writes before it ends (a stream, a
 * `pipe`) is offered without a body (never stored), and its writes wait in order until then.
 *
 * Express generates a weak `ETag` in `res.send` from the body: that one is not the app's own, so
 * it is left out of what is offered (the core computes a strong one for stored responses) and put
 * back when the response is not stored.
 */
export function hold(
  res: HeldResponse,
  onResponse: (response: CapturedResponse) => Promise<Headers>,
): Hold {
  // Never un-patched: middleware that wrapped `res` after this one keeps its wrappers, and
  // calls reach the methods below these once the hold is over.
  let active = true
  const patch = <M extends Method>(method: M, fn: (...args: unknown[]) => unknown) => {
    const below = (res[method] as (...args: unknown[]) => unknown).bind(res)
    res[method] = ((...args: unknown[]) => (active ? fn(...args) : below(...args))) as never
    return below
  }
  const queue: Call[] = []
  let appEtag: boolean | undefined
  let offered = false

  if (typeof res.send === 'function') {
    const send: (body: unknown) => unknown = patch('send', (body): unknown => {
      appEtag ??= res.getHeader('etag') !== undefined
      return send(body)
    })
  }
  patch('writeHead', (status, ...rest) => {
    res.statusCode = status as number
    if (typeof rest[0] === 'string') res.statusMessage = rest.shift() as string
    const headers = rest[0]
    if (Array.isArray(headers)) {
      for (let i = 0; i + 1 < headers.length; i += 2) {
        res.setHeader(String(headers[i]), headers[i + 1] as string)
      }
    } else if (typeof headers === 'object' && headers !== null) {
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value as string)
    }
    return res
  })
  const below = {
    write: patch('write', (...args) => {
      queue.push({ method: 'write', args })
      offer(undefined)
      return true
    }),
    end: patch('end', (...args) => {
      const streamed = offered
      queue.push({ method: 'end', args })
      if (!streamed) offer(bodyOfEnd(args))
      return res
    }),
  }

  function offer(body: string | Uint8Array | undefined): void {
    if (offered) return
    offered = true
    const generated = appEtag === false ? res.getHeader('etag') : undefined
    if (generated !== undefined) res.removeHeader('etag')
    const response = { status: res.statusCode, headers: res.getHeaders(), body }
    void onResponse(response as CapturedResponse).then((headers) => {
      active = false
      if (generated !== undefined && headers['etag'] === undefined) res.setHeader('etag', generated)
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value)
      for (const { method, args } of queue.splice(0)) below[method](...args)
    })
  }
  return { restore: () => void (active = false) }
}

/** The body given to `res.end(chunk?, encoding?, callback?)`. */
function bodyOfEnd([chunk, encoding]: unknown[]): string | Uint8Array {
  if (chunk === undefined || chunk === null || typeof chunk === 'function') return ''
  if (typeof chunk === 'string') {
    return typeof encoding === 'string' && !/^utf-?8$/i.test(encoding)
      ? Buffer.from(chunk, encoding as BufferEncoding)
      : chunk
  }
  return chunk as Uint8Array
}
