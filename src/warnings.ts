/**
 * Every process warning cachegraph emits, in one registry (fastify's `createWarning` style): a
 * stable `code` users can filter on (`process.on('warning', w => w.code)`, or
 * `node --disable-warning=CACHEGRAPH_REDIS_POLICY`), one message per warning, and — where that is
 * the intent — emitted once per process. Modules emit warnings only through this file.
 *
 * A leaf module: the client, stores and HTTP layer may import it without loading the engine.
 */

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
  const warning = ((...args: A) => {
    if (once && emitted) return
    emitted = true
    process.emitWarning(spec.message(...args), { type: name, code: spec.code })
  }) as CodedWarning<A>
  Object.defineProperties(warning, {
    code: { value: spec.code, enumerable: true },
    name: { value: name, enumerable: true },
    emitted: { get: () => emitted, enumerable: true },
    reset: { value: () => void (emitted = false) },
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
