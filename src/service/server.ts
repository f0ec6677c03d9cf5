import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'

import { DEFAULT_MAX_BODY_BYTES } from '../http/admin/options.js'

/** Options of {@link listen}. */
export interface ListenOptions {
  /** The fetch-style handler to serve, e.g. {@link createInvalidationService}'s. */
  handler: (request: Request) => Promise<Response>
  /** @default 8080 (`0` picks a free port) */
  port?: number
  /** @default '127.0.0.1' */
  host?: string
  /**
   * Bytes of a request body passed to the handler at most: reading stops just past it, so a
   * client cannot make the host buffer more (the handler answers 413; the connection is closed).
   * @default 1_048_576 (1 MB)
   */
  maxBodyBytes?: number
  /**
   * How long `close()` waits for requests in flight before cutting their connections.
   * @default 10_000
   */
  shutdownTimeoutMs?: number
  /** Called once the server stopped, before `close()` resolves: e.g. `() => cache.close()`. */
  onClose?: () => Promise<void> | void
}

/** A listening host. */
export interface ListeningServer {
  /** `http://host:port` */
  readonly url: string
  readonly port: number
  readonly server: Server
  /**
   * Graceful shutdown: stops accepting connections, lets requests in flight finish (up to
   * `shutdownTimeoutMs`), closes idle keep-alive connections, then runs `onClose`. Idempotent.
   */
  close(): Promise<void>
}

/**
 * Serves a fetch-style handler on plain `node:http`. Installs no signal handlers: the CLI does,
 * and calls `close()`.
 */
export async function listen(options: ListenOptions): Promise<ListeningServer> {
  const { handler, port = 8080, host = '127.0.0.1', onClose } = options
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000
  let closing = false
  let inFlight = 0
  let drained: (() => void) | undefined

  const server = createServer((req, res) => {
    inFlight++
    res.once('close', () => {
      if (--inFlight === 0) drained?.()
    })
    void answer(handler, req, res, maxBodyBytes, () => closing)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address

  let closed: Promise<void> | undefined
  const close = () =>
    (closed ??= (async () => {
      closing = true
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeIdleConnections()
      if (inFlight > 0) {
        let timer: NodeJS.Timeout | undefined
        await Promise.race([
          new Promise<void>((resolve) => (drained = resolve)),
          new Promise<void>((resolve) => (timer = setTimeout(resolve, shutdownTimeoutMs))),
        ])
        clearTimeout(timer)
      }
      server.closeAllConnections()
      await stopped
      await onClose?.()
    })())

  return { url: `http://${shown}:${address.port}`, port: address.port, server, close }
}

async function answer(
  handler: (request: Request) => Promise<Response>,
  req: IncomingMessage,
  res: ServerResponse,
  maxBodyBytes: number,
  closing: () => boolean,
): Promise<void> {
  let response: Response
  try {
    response = await handler(toRequest(req, maxBodyBytes))
  } catch {
    response = new Response(JSON.stringify({ error: 'cachegraph: internal error' }), {
      status: 500,
      headers: { 'content-type': 'application/json' },
    })
  }
  try {
    const headers = new Map<string, string | string[]>()
    response.headers.forEach((value, name) => headers.set(name, value))
    const cookies = response.headers.getSetCookie()
    if (cookies.length > 0) headers.set('set-cookie', cookies)
    // A body not read to the end (a 413, a refusal before reading) leaves the connection
    // unusable for a next request; during shutdown no connection is kept either.
    if (!req.complete || closing()) headers.set('connection', 'close')
    res.writeHead(response.status, Object.fromEntries(headers))
    if (response.body === null) {
      res.end()
    } else {
      // Piped: a slow reader holds the body back instead of filling memory, and a reader that
      // goes away cancels it (an event stream never ends on its own).
      await pipeline(Readable.fromWeb(response.body), res)
    }
    if (!req.complete) res.once('finish', () => req.destroy())
  } catch {
    res.destroy()
  }
}

/**
 * IncomingMessage → fetch Request. The body is streamed, and ends just past `limit` bytes: the
 * handler's own limit then answers 413 without the host reading the rest.
 */
function toRequest(req: IncomingMessage, limit: number): Request {
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one)
  }
  const method = req.method ?? 'GET'
  const hasBody = method !== 'GET' && method !== 'HEAD'
  const init: RequestInit & { duplex: 'half' } = {
    method,
    headers,
    body: hasBody ? limited(req, limit) : null,
    duplex: 'half',
  }
  return new Request(`http://${req.headers.host ?? '127.0.0.1'}${req.url ?? '/'}`, init)
}

function limited(req: IncomingMessage, limit: number): ReadableStream<Uint8Array> {
  const chunks = req[Symbol.asyncIterator]() as AsyncIterator<Buffer, undefined>
  let size = 0
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (size > limit) return controller.close()
      const next = await chunks.next()
      if (next.done === true) return controller.close()
      const value = next.value
      size += value.byteLength
      controller.enqueue(new Uint8Array(value.buffer, value.byteOffset, value.byteLength))
    },
    cancel() {
      req.pause()
    },
  })
}
