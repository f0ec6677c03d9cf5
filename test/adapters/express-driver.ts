import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'

import type { Express, NextFunction, Request, Response } from 'express'

import { cachegraph } from '../../src/adapters/express.js'
import type { RouteCacheOptions } from '../../src/http/index.js'
import type { ExpressModule } from './express-versions.js'
import { send } from './fastify-driver.js'
import type {
  Driver,
  Harness,
  TableCacheOptions,
  TableRequest,
  TableRoute,
} from '../http/harness.js'
import { routeOptionsFor } from '../http/harness.js'

/** Who authenticated each request (set by an app-level middleware, before the routes). */
const users = new WeakMap<Request, string>()

function tableRequest(req: Request): TableRequest {
  return {
    method: req.method,
    params: req.params as Record<string, string>,
    query: req.query as Record<string, string | string[]>,
    headers: req.headers,
    user: users.get(req),
  }
}

function routeOptions(options: TableCacheOptions): RouteCacheOptions<Request> {
  return routeOptionsFor(options, tableRequest, (req: Request) => users.get(req))
}

function declare(app: Express, route: TableRoute): void {
  const method = route.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete'
  const respond = async (req: Request, res: Response) => {
    const answer = await route.handle(tableRequest(req))
    if (answer.throws === true) throw new Error('handler failed')
    res.status(answer.status ?? 200)
    for (const [name, value] of Object.entries(answer.headers ?? {})) res.setHeader(name, value)
    if (answer.stream !== undefined) {
      res.type('text/plain')
      Readable.from([answer.stream]).pipe(res)
    } else if (answer.text !== undefined) res.type('text/plain').send(answer.text)
    else if (answer.json !== undefined) res.json(answer.json)
    else res.end()
  }
  // Express 4 does not pass a rejected handler's error on by itself.
  const handler = (req: Request, res: Response, next: NextFunction) =>
    void respond(req, res).catch(next)
  if (route.cache === undefined) app[method](route.path, handler)
  else app[method](route.path, cachegraph.route(routeOptions(route.cache)), handler)
}

/** The middleware behind a real socket: 127.0.0.1, a random port, plain `node:http` requests. */
export const expressListening = (express: ExpressModule, version: string): Driver => ({
  name: `${version} on 127.0.0.1`,
  async start(setup): Promise<Harness> {
    const app = express()
    if (setup.trustProxy === true) app.set('trust proxy', true)
    app.use(cachegraph({ cache: setup.cache, ...setup.options }))
    app.use((req, _res, next) => {
      const match = /^Bearer (\w+)$/.exec(req.headers.authorization ?? '')
      if (match !== null) users.set(req, match[1] as string)
      next()
    })
    for (const route of setup.routes) declare(app, route)
    // Express's default error handler prints the stack: the table throws on purpose.
    app.use((_error: unknown, _req: Request, res: Response, _next: unknown) => {
      res.status(500).json({ error: 'handler failed' })
    })
    const server = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening))
    })
    const { port } = server.address() as AddressInfo
    return {
      request: (req) => send(port, req),
      close: () =>
        new Promise<void>((resolve, reject) => {
          server.closeAllConnections()
          server.close((error) => (error === undefined ? resolve() : reject(error)))
        }),
    }
  },
})
