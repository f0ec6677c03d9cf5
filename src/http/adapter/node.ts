import type { IncomingMessage } from 'node:http'
import { Readable } from 'node:stream'

import type { AdminHandler } from '../admin/handler.js'

/**
 * Node's request as a fetch `Request`, for the admin API's fetch-style handler. `target` is the
 * raw request target (`/api/cache/keys?count=5`). A body the framework parsed already goes as
 * JSON (text and bytes as they are); an unparsed one is streamed from `raw` when `stream` says
 * the framework left it unread (Express without a body parser), else there is none.
 */
export function fetchRequestOf(
  raw: IncomingMessage,
  target: string,
  parsed: unknown,
  stream: boolean,
): Request {
  const headers = new Headers()
  for (const [name, value] of Object.entries(raw.headers)) {
    if (value !== undefined) headers.set(name, ([] as string[]).concat(value).join(', '))
  }
  const url = `http://${raw.headers.host ?? 'localhost'}${target}`
  const method = raw.method ?? 'GET'
  const init: RequestInit & { duplex?: 'half' } = { method, headers }
  if (method !== 'GET' && method !== 'HEAD') {
    if (parsed !== undefined) {
      init.body =
        typeof parsed === 'string' || Buffer.isBuffer(parsed) ? parsed : JSON.stringify(parsed)
    } else if (stream) {
      init.body = Readable.toWeb(raw) as ReadableStream<Uint8Array>
      init.duplex = 'half'
    }
  }
  return new Request(url, init)
}

/** A fetch `Response` as a Node framework sends it: its status, headers and body. */
export interface NodeAnswer {
  status: number
  headers: [name: string, value: string][]
  /** The bytes, or the event stream (never ends on its own; a client that goes away ends it). */
  body: Buffer | Readable
}

/**
 * `answer` for a Node response of a request on HTTP/`httpVersionMajor`. An event stream is
 * piped with backpressure, and its connection is not reused: a server's close() would
 * otherwise find it busy when it closes idle connections, and wait for its keep-alive timeout
 * after the stream ended.
 */
export async function nodeAnswer(answer: Response, httpVersionMajor: number): Promise<NodeAnswer> {
  const headers: [string, string][] = []
  answer.headers.forEach((value, name) => void headers.push([name, value]))
  const stream = answer.headers.get('content-type')?.startsWith('text/event-stream') === true
  if (answer.body === null || !stream) {
    return { status: answer.status, headers, body: Buffer.from(await answer.arrayBuffer()) }
  }
  if (httpVersionMajor === 1) headers.push(['connection', 'close'])
  return { status: answer.status, headers, body: Readable.fromWeb(answer.body) }
}

/**
 * The admin API's answer to a Node request (see {@link fetchRequestOf} for `target`, `parsed` and
 * `stream`), as a Node framework sends it; `undefined` when the request is not the admin API's.
 */
export async function adminAnswer<R>(
  admin: AdminHandler<R>,
  original: R,
  raw: IncomingMessage,
  target: string,
  parsed: unknown,
  stream: boolean,
): Promise<NodeAnswer | undefined> {
  const answer = await admin(fetchRequestOf(raw, target, parsed, stream), original)
  return answer === undefined ? undefined : nodeAnswer(answer, raw.httpVersionMajor)
}

/** Whether `path` (no query) is the admin API's `prefix` or under it. */
export const underPrefix = (path: string, prefix: string): boolean =>
  path === prefix || path.startsWith(`${prefix}/`)
