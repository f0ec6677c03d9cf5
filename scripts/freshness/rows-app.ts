/**
 * The app server every worker process runs, as a service of the fleet would: Fastify, Express or
 * Hono with cachegraph's adapter on the process's own cache, on 127.0.0.1.
 *
 * - `GET /rows/:id` is a cached route whose handler calls the cached function `getRow` — so the
 *   response depends on `row:<id>` through nesting, as an app's responses depend on its data.
 * - `PATCH /rows/:id` commits the row's next version; the adapter's default write rule
 *   invalidates `http:/rows/<id>/*`, `http:/rows` and `row:<id>` before it answers (docs/http.md).
 *
 * Each request runs inside the trace of the call that sent it (trace.ts), and a write whose
 * invalidation the store did not record — which the adapter reports to `onError` while it still
 * answers 200 — marks that trace `failed`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

import type * as ExpressAdapter from '../../src/adapters/express.js'
import type * as FastifyAdapter from '../../src/adapters/fastify.js'
import type * as HonoAdapter from '../../src/adapters/hono.js'
import type { Cache } from '../../src/index.js'
import type { Database } from './database.js'
import { type Model, ROW_TTL_MS, type Row } from './model.js'
import { TRACE_HEADER, type Tracer } from './trace.js'

export const FRAMEWORKS = ['fastify', 'express', 'hono'] as const
export type Framework = (typeof FRAMEWORKS)[number]

/** Module specifiers of the adapters: the package's, or those of a patched copy (library.ts). */
export type AdapterModules = Record<Framework, string>

export interface RowsApp {
  readonly framework: Framework
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  close(): Promise<void>
}

interface AppContext {
  cache: Cache
  model: Model
  db: Database
  /** Writes answer once the fleet applied their invalidation (the adapters' `ack`). */
  ack: boolean
  /** The adapters' `onError`: failures that do not fail the request. */
  onError: (error: unknown, context: { operation: string }) => void
}

type Listener = (req: IncomingMessage, res: ServerResponse) => void

export async function startRowsApp(
  framework: Framework,
  modules: AdapterModules,
  ctx: Omit<AppContext, 'onError'>,
  tracer: Tracer,
): Promise<RowsApp> {
  const app: AppContext = {
    ...ctx,
    onError: (error, { operation }) => {
      const trace = tracer.current
      if (operation === 'http:invalidate' && trace !== undefined) trace.failed = error
    },
  }
  // The request is handled inside its caller's trace: wrap the framework's node listener.
  const traced =
    (listener: Listener): Listener =>
    (req, res) =>
      tracer.serve(req.headers[TRACE_HEADER], () => listener(req, res))
  let server: Server
  let closeApp: () => Promise<void> = async () => {}
  switch (framework) {
    case 'fastify': {
      const fastify = await fastifyApp(modules.fastify, app, (listener) => {
        server = createServer(traced(listener))
        return server
      })
      await fastify.listen({ host: '127.0.0.1', port: 0 })
      closeApp = () => fastify.close()
      break
    }
    case 'express':
      server = createServer(traced(await expressApp(modules.express, app)))
      await listen(server)
      break
    case 'hono':
      server = createServer(traced(await honoApp(modules.hono, app)))
      await listen(server)
      break
  }
  const { port } = server!.address() as AddressInfo
  return {
    framework,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections()
      await closeApp()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

/**
 * `GET` (read) or `PATCH` (commit the next version) of `/rows/:id` on `app`, with `headers`;
 * anything but a 200 throws.
 */
export async function callRow(
  app: RowsApp,
  method: 'GET' | 'PATCH',
  id: number,
  headers: Record<string, string>,
): Promise<Row> {
  const response = await fetch(`${app.url}/rows/${id}`, { method, headers })
  if (response.status !== 200) {
    throw new Error(
      `freshness: ${method} /rows/${id} (${app.framework}) answered ${response.status}: ` +
        (await response.text()).slice(0, 200),
    )
  }
  return (await response.json()) as Row
}

const listen = (server: Server) =>
  new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))

const rowId = (text: unknown) => Number(text)

async function fastifyApp(
  specifier: string,
  { cache, model, db, ack, onError }: AppContext,
  serverFactory: (listener: Listener) => Server,
) {
  const { default: Fastify } = await import('fastify')
  const { cachegraph } = (await import(specifier)) as typeof FastifyAdapter
  const app = Fastify({ serverFactory })
  await app.register(cachegraph, { cache, ack, onError })
  app.get<{ Params: { id: string } }>(
    '/rows/:id',
    { config: { cache: { ttl: ROW_TTL_MS } } },
    (request) => model.getRow(rowId(request.params.id)),
  )
  app.patch<{ Params: { id: string } }>('/rows/:id', async (request) => {
    const id = rowId(request.params.id)
    return { id, version: await db.bump(id) }
  })
  return app
}

async function expressApp(
  specifier: string,
  { cache, model, db, ack, onError }: AppContext,
): Promise<Listener> {
  const { default: express } = await import('express')
  const { cachegraph } = (await import(specifier)) as typeof ExpressAdapter
  const app = express()
  app.use(cachegraph({ cache, ack, onError }))
  app.get('/rows/:id', cachegraph.route({ ttl: ROW_TTL_MS }), (req, res, next) => {
    model.getRow(rowId(req.params.id)).then((row) => res.json(row), next)
  })
  app.patch('/rows/:id', (req, res, next) => {
    const id = rowId(req.params.id)
    db.bump(id).then((version) => res.json({ id, version }), next)
  })
  return app
}

async function honoApp(
  specifier: string,
  { cache, model, db, ack, onError }: AppContext,
): Promise<Listener> {
  const { Hono } = await import('hono')
  const { getRequestListener } = await import('@hono/node-server')
  const { cachegraph } = (await import(specifier)) as typeof HonoAdapter
  const app = new Hono()
  app.use(cachegraph({ cache, ack, onError }))
  app.get('/rows/:id', cachegraph.route({ ttl: ROW_TTL_MS }), async (c) =>
    c.json(await model.getRow(rowId(c.req.param('id')))),
  )
  app.patch('/rows/:id', async (c) => {
    const id = rowId(c.req.param('id'))
    return c.json({ id, version: await db.bump(id) })
  })
  const listener = getRequestListener(app.fetch)
  return (req, res) => void listener(req, res)
}
