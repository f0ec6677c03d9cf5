import { expect, it } from 'vitest'

import { type Cache, createCache } from '../../src/index.js'
import { type FakeClock, fakeClock } from '../../src/testing/index.js'
import type {
  CacheStatus,
  HttpCacheOptions,
  RouteCacheOptions,
  WriteResponse,
} from '../../src/http/index.js'

/**
 * What every adapter test drives: routes declared without any framework, a harness that sends
 * requests. `test/http/cases.ts` holds the behaviour every adapter must show; an adapter test
 * supplies a {@link Driver} and calls {@link runCases}.
 */

/** A request as a route handler of the table sees it. */
export interface TableRequest {
  method: string
  params: Record<string, string>
  /** The parsed query, as the framework parsed it. */
  query: Record<string, string | string[]>
  headers: Record<string, string | string[] | undefined>
  /** Set by the driver's authentication hook from `Authorization: Bearer <user>`. */
  user: string | undefined
}

/** A response a table handler asks for. */
export interface TableResponse {
  status?: number
  headers?: Record<string, string | string[]>
  /** Sent as JSON. */
  json?: unknown
  /** Sent as text/plain. */
  text?: string
  /** Sent as a stream of this text. */
  stream?: string
  /** Thrown instead of answering: the framework's error handler answers 500. */
  throws?: boolean
}

/** A `varyBy` entry: a header name, or {@link USER} for "the authenticated user" (a function). */
export const USER = Symbol('user')

/** Route options in a framework-neutral form (functions get a {@link TableRequest}). */
export interface TableCacheOptions extends Omit<
  RouteCacheOptions,
  'varyBy' | 'tags' | 'invalidates'
> {
  varyBy?: readonly (string | typeof USER)[]
  tags?: readonly string[] | ((request: TableRequest) => readonly string[])
  invalidates?:
    readonly string[] | ((request: TableRequest, response: WriteResponse) => readonly string[])
}

export interface TableRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  /** A pattern with `:params`. */
  path: string
  /** Omitted: the route does not opt in. */
  cache?: TableCacheOptions
  handle(request: TableRequest): TableResponse | Promise<TableResponse>
}

export interface Res {
  status: number
  headers: Record<string, string | undefined>
  body: string
}

export type Req = string | { method?: string; url: string; headers?: Record<string, string> }

export interface Harness {
  request(req: Req): Promise<Res>
  close(): Promise<void>
}

/** Starts one app of a framework with the plugin/middleware registered and `routes` declared. */
export interface Driver {
  name: string
  start(setup: {
    cache: Cache
    options: Omit<HttpCacheOptions, 'cache'>
    routes: readonly TableRoute[]
    /**
     * The app trusts the proxy in front of it, the framework's way (Fastify `trustProxy`,
     * Express `trust proxy`, the Hono middleware's `trustProxy` option).
     */
    trustProxy?: boolean
  }): Promise<Harness>
}

export interface Expectation {
  status?: number
  /** `null`: no `X-Cache` header at all. */
  cache?: CacheStatus | null
  json?: unknown
  text?: string
  /** `null`: absent; a RegExp: present and matching. */
  headers?: Record<string, string | RegExp | null>
  /** Handler calls so far, by route (`'GET /users'`). */
  calls?: Record<string, number>
}

export interface CaseContext {
  cache: Cache
  harness: Harness
  /** The case's clock when it asked for one (`clock: true`), else the wall clock. */
  clock: FakeClock | undefined
  /** Every response so far, in order. */
  responses: Res[]
  calls(route: string): number
}

export type Step =
  | ({ req: Req | ((ctx: CaseContext) => Req) } & Expectation)
  | { act: (ctx: CaseContext) => unknown }

export interface Case {
  name: string
  options?: Omit<HttpCacheOptions, 'cache'>
  /** A fake clock, fresh for each run, drives both the cache and the HTTP options. */
  clock?: boolean
  /** The app trusts its proxy (see {@link Driver}). */
  trustProxy?: boolean
  /** Routes; built per run with that run's cache (for memoized functions) and clock. */
  routes: (cache: Cache, clock: FakeClock | undefined) => TableRoute[]
  steps: Step[]
}

export function runCases(driver: Driver, cases: readonly Case[]): void {
  for (const c of cases) {
    it(c.name, async () => {
      const clock = c.clock === true ? fakeClock() : undefined
      const cache = createCache(clock === undefined ? {} : { clock })
      const counts = new Map<string, number>()
      const routes = c.routes(cache, clock).map((route) => {
        const id = `${route.method} ${route.path}`
        return {
          ...route,
          handle: (request: TableRequest) => {
            counts.set(id, (counts.get(id) ?? 0) + 1)
            return route.handle(request)
          },
        }
      })
      const options = { ...c.options, ...(clock === undefined ? {} : { clock }) }
      const trustProxy = c.trustProxy === true
      const harness = await driver.start({ cache, options, routes, trustProxy })
      const ctx: CaseContext = {
        cache,
        harness,
        clock,
        responses: [],
        calls: (route) => counts.get(route) ?? 0,
      }
      try {
        for (const [index, step] of c.steps.entries()) {
          if ('act' in step) {
            await step.act(ctx)
            continue
          }
          const req = typeof step.req === 'function' ? step.req(ctx) : step.req
          const res = await harness.request(req)
          ctx.responses.push(res)
          check(res, step, ctx, `step ${index} (${JSON.stringify(req)})`)
        }
      } finally {
        await harness.close()
        await cache.close()
      }
    })
  }
}

export function check(res: Res, want: Expectation, ctx: CaseContext, where: string): void {
  if (want.status !== undefined) expect(res.status, `${where}: status`).toBe(want.status)
  if (want.cache !== undefined) {
    expect(res.headers['x-cache'], `${where}: x-cache`).toBe(want.cache ?? undefined)
  }
  if (want.json !== undefined) expect(JSON.parse(res.body), `${where}: body`).toEqual(want.json)
  if (want.text !== undefined) expect(res.body, `${where}: body`).toBe(want.text)
  for (const [name, value] of Object.entries(want.headers ?? {})) {
    const got = res.headers[name]
    if (value === null) expect(got, `${where}: ${name}`).toBeUndefined()
    else if (value instanceof RegExp) expect(got, `${where}: ${name}`).toMatch(value)
    else expect(got, `${where}: ${name}`).toBe(value)
  }
  for (const [route, count] of Object.entries(want.calls ?? {})) {
    expect(ctx.calls(route), `${where}: calls of ${route}`).toBe(count)
  }
}

/** `GET url` with headers. */
export const get = (url: string, headers: Record<string, string> = {}): Req => ({ url, headers })

/**
 * A table route's cache options in a framework's terms: the table's `USER` marker and functions
 * of a table request become functions of that framework's request.
 */
export function routeOptionsFor<R>(
  options: TableCacheOptions,
  tableRequest: (request: R) => TableRequest,
  userOf: (request: R) => unknown,
): RouteCacheOptions<R> {
  const { varyBy, tags, invalidates, ...rest } = options
  return {
    ...rest,
    ...(varyBy === undefined
      ? {}
      : { varyBy: varyBy.map((v) => (v === USER ? (req: R) => userOf(req) : v)) }),
    ...(typeof tags === 'function'
      ? { tags: (req: R) => tags(tableRequest(req)) }
      : tags === undefined
        ? {}
        : { tags }),
    ...(typeof invalidates === 'function'
      ? { invalidates: (req: R, res) => invalidates(tableRequest(req), res) }
      : invalidates === undefined
        ? {}
        : { invalidates }),
  }
}
