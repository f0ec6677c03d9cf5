import { pipeline, Readable } from 'node:stream'

import type { NextFunction, Request, Response } from 'express'

import type { AdminHandler } from '../http/index.js'

/**
 * The admin API's fetch-style handler as Express middleware: requests under its prefix are
 * answered (a body parser that ran before is honoured), every other request goes on.
 */
export function adminMiddleware(admin: AdminHandler<Request>, prefix: string) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    // Outside the prefix the body must stay unread, for the app's own parsers.
    const path = req.originalUrl.split('?', 1)[0] ?? ''
    if (path !== prefix && !path.startsWith(`${prefix}/`)) return next()
    const headers = new Headers()
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, ([] as string[]).concat(value).join(', '))
    }
    const url = `http://${req.headers.host ?? 'localhost'}${req.originalUrl}`
    const init: RequestInit & { duplex?: 'half' } = { method: req.method, headers }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const parsed: unknown = req.body
      if (parsed === undefined) {
        init.body = Readable.toWeb(req) as ReadableStream<Uint8Array>
        init.duplex = 'half'
      } else {
        init.body =
          typeof parsed === 'string' || Buffer.isBuffer(parsed) ? parsed : JSON.stringify(parsed)
      }
    }
    const answer = await admin(new Request(url, init), req)
    if (answer === undefined) return next()
    res.status(answer.status)
    answer.headers.forEach((value, name) => void res.setHeader(name, value))
    if (
      answer.body !== null &&
      answer.headers.get('content-type')?.startsWith('text/event-stream')
    ) {
      // Piped with backpressure; a client that goes away cancels the stream. Its connection is
      // not reused, so a server's close() does not wait for it after the stream ended.
      if (req.httpVersionMajor === 1) res.setHeader('connection', 'close')
      return void pipeline(Readable.fromWeb(answer.body), res, () => {})
    }
    res.end(Buffer.from(await answer.arrayBuffer()))
  }
}
