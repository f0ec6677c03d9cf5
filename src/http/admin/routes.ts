import { assetRoute, eventsRoute, membersRoute, uiRoute } from '../dashboard/routes.js'
import type { RouteHandler } from './context.js'
import { clearRoute, dependentsRoute, invalidateRoute } from './invalidate.js'
import { deleteKeyRoute, inspectKeyRoute, listKeysRoute } from './keys.js'
import { healthRoute, metricsRoute, statsRoute } from './stats.js'

type Methods = Partial<Record<'GET' | 'POST' | 'DELETE', RouteHandler>>

/** A route: its methods and, for `/keys/:key` and `/tags/:tag`, the raw rest of the path. */
export interface Match {
  methods: Methods
  /** Still percent-encoded. */
  rawParam: string
  /** What the parameter is, for error messages. */
  paramName: string
}

const EXACT: Record<string, Methods> = {
  '/keys': { GET: listKeysRoute },
  '/clear': { POST: clearRoute },
  '/invalidate': { POST: invalidateRoute },
  '/stats': { GET: statsRoute },
  '/health': { GET: healthRoute },
  '/metrics': { GET: metricsRoute },
  '/ui': { GET: uiRoute },
  '/events': { GET: eventsRoute },
  '/members': { GET: membersRoute },
}

/**
 * Routes with a parameter take the whole rest of the path, so a key with a `/` in it works
 * whether the client encoded it (`a%2Fb`) or not.
 */
const WITH_PARAM: [prefix: string, name: string, methods: Methods][] = [
  ['/keys/', 'key', { GET: inspectKeyRoute, DELETE: deleteKeyRoute }],
  ['/tags/', 'tag', { GET: dependentsRoute }],
  ['/ui/', 'dashboard file', { GET: assetRoute }],
]

/** The route of `path` (relative to the prefix), or undefined. */
export function matchRoute(path: string): Match | undefined {
  const exact = Object.hasOwn(EXACT, path) ? EXACT[path] : undefined
  if (exact !== undefined) return { methods: exact, rawParam: '', paramName: '' }
  for (const [prefix, paramName, methods] of WITH_PARAM) {
    if (path.startsWith(prefix) && path.length > prefix.length) {
      return { methods, rawParam: path.slice(prefix.length), paramName }
    }
  }
  return undefined
}

/** The `Allow` header of a route: HEAD goes wherever GET does. */
export const allowOf = (methods: Methods): string =>
  Object.keys(methods)
    .flatMap((method) => (method === 'GET' ? ['GET', 'HEAD'] : [method]))
    .join(', ')
