import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Received {
  body: unknown
  headers: IncomingMessage['headers']
}

/**
 * A real server on 127.0.0.1 whose answers the test scripts: `answer` gets each request (in
 * order) and returns a status, or a promise of one to hold the answer back, or `'hang-up'` to
 * close the connection without an answer (a service that applied the request, then died).
 */
export async function scriptedServer(
  answer: (n: number, received: Received) => number | 'hang-up' | Promise<number> = () => 200,
  port = 0,
) {
  const received: Received[] = []
  const waiters: [count: number, resolve: () => void][] = []
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    let text = ''
    for await (const chunk of req) text += (chunk as Buffer).toString()
    const one = { body: JSON.parse(text) as unknown, headers: req.headers }
    received.push(one)
    for (const [count, resolve] of waiters) if (received.length >= count) resolve()
    const status = await answer(received.length, one)
    if (status === 'hang-up') return void req.socket.destroy()
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ status: status < 300 ? 'invalidated' : 'no' }))
  }
  const server = createServer((req, res) => void handle(req, res))
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const address = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${address.port}/cache/invalidate`,
    port: address.port,
    received,
    /** Resolves once `count` requests arrived. */
    requests: (count: number) =>
      new Promise<void>((resolve) => {
        if (received.length >= count) resolve()
        else waiters.push([count, resolve])
      }),
    close: () => {
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
