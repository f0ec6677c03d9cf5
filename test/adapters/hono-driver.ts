import { type Context, Hono } from 'hono'
import { stream } from 'hono/streaming'

import { cachegraph } from '../../src/adapters/hono.js'
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

/** Who authenticated each request (set by an app-level middleware, before the routes). */
const users = new WeakMap<Context, string>()

function tableRequest(c: Context): TableRequest {
  const query: Record<string, string | string[]> = {}
  for (const [name, values] of Object.entries(c.req.queries())) {
    query[name] = values.length === 1 ? (values[0] as string) : values
  }
  return {
    method: c.req.method,
    params: c.req.param(),
    query,
    headers: Object.fromEntries(c.req.raw.headers),
    user: users.get(c),
  }
}

function routeOptions(options: TableCacheOptions): RouteCacheOptions<Context> {
  return routeOptionsFor(options, tableRequest, (req: Context) => users.get(req))
}

function declare(app: Hono, route: TableRoute): void {
  const handler = async (c: Context) => {
    const answer = await route.handle(tableRequest(c))
    if (answer.throws === true) throw new Error('handler failed')
    c.status((answer.status ?? 200) as 200)
    for (const [name, value] of Object.entries(answer.headers ?? {})) {
      for (const item of ([] as string[]).concat(value)) c.header(name, item, { append: true })
    }
    if (answer.stream !== undefined) {
      const text = answer.stream
      c.header('content-type', 'text/plain')
      return stream(c, async (s) => void (await s.write(text)))
    }
    if (answer.text !== undefined) return c.text(answer.text)
    if (answer.json !== undefined) return c.json(answer.json)
    return c.body(null)
  }
  const method = route.method
  if (route.cache === undefined) app.on(method, route.path, handler)
  else app.on(method, route.path, cachegraph.route(routeOptions(route.cache)), handler)
}

const normalize = (req: Req) =>
  typeof req === 'string'
    ? { method: 'GET', url: req, headers: {} }
    : { method: 'GET', headers: {}, ...req }

/** The middleware exercised in process with Hono's `app.request()`. */
export const honoRequest: Driver = {
  name: 'hono app.request()',
  async start(setup): Promise<Harness> {
    const app = new Hono()
    const trustProxy = setup.trustProxy === true
    app.use(cachegraph({ cache: setup.cache, ...setup.options, trustProxy }))
    app.use(async (c, next) => {
      const match = /^Bearer (\w+)$/.exec(c.req.header('authorization') ?? '')
      if (match !== null) users.set(c, match[1] as string)
      await next()
    })
    for (const route of setup.routes) declare(app, route)
    app.onError((_error, c) => c.json({ error: 'handler failed' }, 500))
    return {
      async request(req): Promise<Res> {
        const { method, url, headers } = normalize(req)
        const res = await app.request(url, { method, headers })
        const out: Res['headers'] = {}
        res.headers.forEach((value, name) => void (out[name] = value))
        return { status: res.status, headers: out, body: await res.text() }
      },
      close: async () => {},
    }
  },
}
