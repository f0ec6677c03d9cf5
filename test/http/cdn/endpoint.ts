import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One request a fake vendor API received. */
export interface Received {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: string
}

/**
 * A local HTTP endpoint on 127.0.0.1 standing in for a vendor's purge API: it records every
 * request, and answers with `respond(request, index)` (default 200 `{"success":true}`).
 */
export async function fakeEndpoint(
  respond: (req: Received, index: number) => { status: number; body?: string } = () => ({
    status: 200,
  }),
) {
  const received: Received[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => (body += chunk))
    req.on('end', () => {
      const r: Received = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
      }
      received.push(r)
      const answer = respond(r, received.length - 1)
      res.writeHead(answer.status, { 'content-type': 'application/json' })
      res.end(answer.body ?? JSON.stringify({ success: answer.status < 300 }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
