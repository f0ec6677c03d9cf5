/**
 * Every process warning cachegraph emits, in one registry (fastify's `createWarning` style): a
 * stable `code` users can filter on (`process.on('warning', w => w.code)`, or
 * `node --disable-warning=CACHEGRAPH_REDIS_POLICY`), one message per warning, and — where that is
 * the intent — emitted once per process. Modules emit warnings only through this file.
 *
 * With a `logger` option (a pino logger, or anything with the same methods), warnings and errors
 * go to it instead, with their code in the logged object, and nothing is written to the console.
 *
 * A leaf module: the client, stores and HTTP layer may import it without loading the engine.
 */
import { type CacheError, invalidOption } from './errors.js'

/**
 * One level of a {@link Logger}: called as pino's are, `(object, message)`, the object holding
 * `code` for coded warnings and errors and `err` for the error itself (pino serializes `err`).
 * A function that takes a plain message as its first argument (`console.warn`) works too.
 */
export type LogFn = (object: Record<string, unknown> | string, message?: string) => void

/**
 * Where cachegraph logs instead of `process.emitWarning()` and `console`: a pino logger
 * (`logger: pino()`, `logger: fastify.log`), `console`, or any object with these methods.
 */
export interface Logger {
  warn: LogFn
  error: LogFn
  debug: LogFn
  info?: LogFn
}

/** Checks a `logger` option when it is given: a `CacheError` naming `option` otherwise. */
export function checkLogger(value: unknown, option = 'logger'): Logger | undefined {
  if (value === undefined) return undefined
  const expected = 'must have warn(), error() and debug() methods (a pino logger, or console)'
  if (typeof value !== 'object' || value === null) throw invalidOption(option, expected)
  const logger = value as Record<string, unknown>
  const missing = ['warn', 'error', 'debug'].filter((level) => typeof logger[level] !== 'function')
  if (logger.info !== undefined && typeof logger.info !== 'function') missing.push('info')
  if (missing.length > 0) {
    throw invalidOption(option, `${expected}; not a function: ${missing.join(', ')}`)
  }
  return value as Logger
}

/**
 * Logs `error` at level `error`, with its `code` (a `CacheError`'s, or a Node error's), `fields`
 * and the error itself as `err`. A logger that throws cannot break what it reports on.
 */
export function logError(
  logger: Logger,
  message: string,
  error: unknown,
  fields: Record<string, unknown> = {},
): void {
  const code = (error as Partial<CacheError> | null)?.code
  try {
    logger.error({ ...(typeof code === 'string' ? { code } : {}), ...fields, err: error }, message)
  } catch {
    // Nothing left to report it with.
  }
}

/** A coded warning: call it to emit; with `once`, only the first call per process does. */
export interface CodedWarning<A extends unknown[]> {
  (...args: A): void
  readonly code: string
  /** The warning's `name` (the category Node prints before the message). */
  readonly name: string
  /** Whether it was emitted (always false again after {@link CodedWarning.reset}). */
  readonly emitted: boolean
  /** Forgets that a `once` warning was emitted (tests). */
  reset(): void
  /**
   * Emits to `logger` (`warn`, with `{ code, name }`) rather than as a process warning; without
   * one, as calling the warning does. `once` counts both ways together.
   */
  log(logger: Logger | undefined, ...args: A): void
}

export interface WarningSpec<A extends unknown[]> {
  /** Stable, `CACHEGRAPH_` + what it is about. */
  code: `CACHEGRAPH_${string}`
  /** @default 'CachegraphWarning' */
  name?: string
  message: (...args: A) => string
  /** Emit on the first call only. @default true */
  once?: boolean
}

const registry = new Map<string, CodedWarning<never[]>>()

/** Defines a coded warning; a code may be defined once. */
export function createWarning<A extends unknown[]>(spec: WarningSpec<A>): CodedWarning<A> {
  if (registry.has(spec.code)) throw new Error(`cachegraph: warning ${spec.code} defined twice`)
  const name = spec.name ?? 'CachegraphWarning'
  const once = spec.once ?? true
  let emitted = false
  const emit = (logger: Logger | undefined, args: A) => {
    if (once && emitted) return
    emitted = true
    const message = spec.message(...args)
    if (logger === undefined) process.emitWarning(message, { type: name, code: spec.code })
    else {
      try {
        logger.warn({ code: spec.code, name }, message)
      } catch {
        // A logger that throws must not break the operation that warns.
      }
    }
  }
  const warning = ((...args: A) => emit(undefined, args)) as CodedWarning<A>
  Object.defineProperties(warning, {
    code: { value: spec.code, enumerable: true },
    name: { value: name, enumerable: true },
    emitted: { get: () => emitted, enumerable: true },
    reset: { value: () => void (emitted = false) },
    log: { value: (logger: Logger | undefined, ...args: A) => emit(logger, args) },
  })
  registry.set(spec.code, warning as unknown as CodedWarning<never[]>)
  return warning
}

/** Every warning defined so far, by code (documentation, tests). */
export function definedWarnings(): ReadonlyMap<string, CodedWarning<never[]>> {
  return registry
}

/** The Redis server may evict tag records and counters (`maxmemory-policy`). Once per process. */
export const REDIS_EVICTION_POLICY = createWarning({
  code: 'CACHEGRAPH_REDIS_POLICY',
  message: (policy: string) =>
    `Redis maxmemory-policy is '${policy}': it may evict cachegraph's tag records and counters. Use a volatile-* policy or noeviction.`,
})

/**
 * The invalidation client dropped invalidations and nobody listens to `dropped`. The client
 * decides how often (once per reason); the registry emits every call.
 */
export const CLIENT_DROPPED = createWarning({
  code: 'CACHEGRAPH_CLIENT_DROPPED',
  name: 'CachegraphClientWarning',
  message: (problem: string, reason: string) =>
    `${problem} (${reason}; listen to 'dropped' to handle it)`,
  once: false,
})

/** `flushCache()` (fire and forget) could not send an invalidation. Once per process. */
export const CLIENT_FLUSH_DROPPED = createWarning({
  code: 'CACHEGRAPH_CLIENT_FLUSH_DROPPED',
  name: 'CachegraphClientWarning',
  message: (problem: string) => `${problem}; invalidation dropped`,
})

/**
 * An invalidation through the service or the admin API reached no other process: nobody listens
 * on this store's prefix — most often a service or app on another Redis, `prefix` or namespace
 * than the apps. Once per process.
 */
export const INVALIDATION_UNHEARD = createWarning({
  code: 'CACHEGRAPH_INVALIDATION_UNHEARD',
  message: (namespace: string, store: string) =>
    `cachegraph: an invalidation in namespace '${namespace}' (store: ${store}) reached no other process: nothing else listens on this store's prefix. Check that the apps use the same Redis, prefix and namespace.`,
})
