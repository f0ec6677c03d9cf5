import { Readable } from 'node:stream'

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

import type { AdminHandler } from '../http/index.js'

/** The admin API's fetch-style handler on every method under `prefix`. */
export function mountAdmin(
  app: FastifyInstance,
  admin: AdminHandler<FastifyRequest>,
  prefix: string,
) {
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const body =
      request.body === undefined || request.method === 'GET' || request.method === 'HEAD'
        ? undefined
        : typeof request.body === 'string' || Buffer.isBuffer(request.body)
          ? request.body
          : JSON.stringify(request.body) // Fastify parsed it already
    const url = `http://${request.headers.host ?? 'localhost'}${request.url}`
    const headers = new Headers()
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers.set(name, ([] as string[]).concat(value).join(', '))
    }
    const answer = await admin(new Request(url, { method: request.method, headers, body }), request)
    if (answer === undefined) return reply.code(404).send({ error: 'not found' })
    reply.code(answer.status)
    answer.headers.forEach((value, name) => void reply.header(name, value))
    // The event stream never ends on its own: piped, so a client that goes away cancels it.
    if (answer.body !== null && isEventStream(answer)) {
      // Its connection is not reused: a server's close() would otherwise find it busy when it
      // closes idle connections, and wait for its keep-alive timeout after the stream ended.
      if (request.raw.httpVersionMajor === 1) reply.header('connection', 'close')
      return reply.send(Readable.fromWeb(answer.body))
    }
    return reply.send(Buffer.from(await answer.arrayBuffer()))
  }
  // Admin calls are neither cached nor HTTP writes to invalidate after.
  const config = { cache: { enabled: false, invalidation: false as const } }
  app.all(prefix, { config }, handler)
  app.all(`${prefix}/*`, { config }, handler)
}

const isEventStream = (answer: Response) =>
  answer.headers.get('content-type')?.startsWith('text/event-stream') === true
