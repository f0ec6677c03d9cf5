import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'

import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'

import { cachegraph } from '../../src/adapters/fastify.js'
import type { RouteCacheOptions } from '../../src/http/index.js'
import type {
  Driver,
  Harness,
  Req,
  Res,
  TableCacheOptions,
  TableRequest,
  TableRoute,
} from '../http/harness.js'
import { routeOptionsFor } from '../http/harness.js'

/** Who authenticated each request (set by a route-level `preHandler`, i.e. after app hooks). */
const users = new WeakMap<FastifyRequest, string>()

function tableRequest(request: FastifyRequest): TableRequest {
  return {
    method: request.method,
    params: request.params as Record<string, string>,
    query: request.query as Record<string, string | string[]>,
    headers: request.headers,
    user: users.get(request),
  }
}

function routeOptions(options: TableCacheOptions): RouteCacheOptions<FastifyRequest> {
  return routeOptionsFor(options, tableRequest, (req: FastifyRequest) => users.get(req))
}

export function declare(app: FastifyInstance, route: TableRoute): void {
  app.route({
    method: route.method,
    url: route.path,
    config: route.cache === undefined ? {} : { cache: routeOptions(route.cache) },
    preHandler: async (request) => {
      const match = /^Bearer (\w+)$/.exec(request.headers.authorization ?? '')
      if (match !== null) users.set(request, match[1] as string)
    },
    handler: async (request, reply) => {
      const res = await route.handle(tableRequest(request))
      if (res.throws === true) throw new Error('handler failed')
      reply.code(res.status ?? 200)
      for (const [name, value] of Object.entries(res.headers ?? {})) reply.header(name, value)
      if (res.stream !== undefined)
        return reply.type('text/plain').send(Readable.from([res.stream]))
      if (res.text !== undefined) return reply.type('text/plain').send(res.text)
      if (res.json !== undefined) return reply.send(res.json)
      return reply.send()
    },
  })
}

async function build(setup: Parameters<Driver['start']>[0]): Promise<FastifyInstance> {
  const app = Fastify({ trustProxy: setup.trustProxy === true })
  await app.register(cachegraph, { cache: setup.cache, ...setup.options })
  for (const route of setup.routes) declare(app, route)
  return app
}

const normalize = (req: Req) =>
  typeof req === 'string'
    ? { method: 'GET', url: req, headers: {} }
    : { method: 'GET', headers: {}, ...req }

function flatten(headers: Record<string, string | string[] | number | undefined>): Res['headers'] {
  const out: Res['headers'] = {}
  for (const [name, value] of Object.entries(headers)) {
    out[name] = Array.isArray(value)
      ? value.join(', ')
      : value === undefined
        ? undefined
        : String(value)
  }
  return out
}

/** The plugin exercised in process with `fastify.inject()`. */
export const fastifyInject: Driver = {
  name: 'fastify.inject()',
  async start(setup): Promise<Harness> {
    const app = await build(setup)
    await app.ready()
    return {
      async request(req) {
        const { method, url, headers } = normalize(req)
        const res = await app.inject({ method: method as 'GET', url, headers })
        return { status: res.statusCode, headers: flatten(res.headers), body: res.body }
      },
      close: () => app.close(),
    }
  },
}

/** The plugin behind a real socket: 127.0.0.1, a random port, plain `node:http` requests. */
export const fastifyListening: Driver = {
  name: 'fastify on 127.0.0.1',
  async start(setup): Promise<Harness> {
    const app = await build(setup)
    await app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = app.server.address() as AddressInfo
    return {
      request: (req) => send(port, req),
      close: () => app.close(),
    }
  },
}

export function send(port: number, req: Req): Promise<Res> {
  const { method, url, headers } = normalize(req)
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: '127.0.0.1', port, method, path: url, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: flatten(res.headers),
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      )
      res.on('error', reject)
    })
    outgoing.on('error', reject)
    outgoing.end()
  })
}
