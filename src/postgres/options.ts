import { CacheError } from '../index.js'

/** Anything that records invalidations: a `Cache` (or the service's cache). */
export interface InvalidationTarget {
  /** Resolves once the invalidation is recorded; rejects when it could not be. */
  invalidate(tags: readonly string[]): Promise<unknown>
}

/** How one table maps to an entity type. */
export interface TableMapping {
  /** The entity type: changes invalidate `entityTag(entity, key)` and `collectionTag(entity)`. */
  entity: string
  /**
   * The column holding the entity id.
   * @default the table's primary key (one column; a composite key needs `key`)
   */
  key?: string
}

/** How changes are captured (docs/postgres.md compares what each costs the database). */
export type CaptureMode = 'triggers' | 'replication'

/** Options of {@link postgresInvalidation}. */
export interface PostgresInvalidationOptions {
  /** Where invalidations are recorded: usually the app's `Cache`. */
  cache: InvalidationTarget
  /** `postgres://user@host:5432/db`, as `pg` reads it. */
  connectionString: string
  /**
   * Table → entity: `{ products: 'product' }`, `{ 'shop.order_items': { entity: 'orderItem',
   * key: 'id' } }`. A name without a schema is resolved with the connection's `search_path`.
   */
  tables: Readonly<Record<string, string | TableMapping>>
  /**
   * `'triggers'`: statement triggers write an outbox table and `NOTIFY` (any PostgreSQL >= 12).
   * `'replication'`: logical replication (`pgoutput`), no triggers; needs `wal_level=logical`.
   * @default 'triggers'
   */
  mode?: CaptureMode
  /**
   * The listener's name: its position is stored in the database under it (triggers: a row of
   * `<schema>.positions`; replication: the slot and publication `cachegraph_<name>`). Letters,
   * digits and `_`, at most 40.
   * @default 'cachegraph'
   */
  name?: string
  /**
   * Triggers mode: the schema of the outbox, positions and trigger function.
   * @default 'cachegraph'
   */
  schema?: string
  /**
   * Most tags per `invalidate` call: a burst of changes is recorded in several calls, all of
   * them before the position advances.
   * @default 1000
   */
  maxTagsPerCall?: number
  /**
   * Triggers mode: a poll even without a `NOTIFY`, so a half-open connection is noticed.
   * Replication mode: how often the position is reported when idle.
   * @default 10_000
   */
  idleMs?: number
  /**
   * Longest wait between two attempts (reconnect, or recording an invalidation again); waits
   * start at 50 ms and double.
   * @default 5_000
   */
  maxRetryDelayMs?: number
}

/** Options with defaults applied and checked. */
export interface ResolvedOptions {
  cache: InvalidationTarget
  connectionString: string
  tables: ReadonlyMap<string, { entity: string; key: string | undefined }>
  mode: CaptureMode
  name: string
  schema: string
  maxTagsPerCall: number
  idleMs: number
  maxRetryDelayMs: number
}

const invalid = (option: string, problem: string): CacheError =>
  new CacheError('E_INVALID_OPTION', `cachegraph: option \`${option}\` ${problem}`)

const NAME = /^[a-z0-9_]{1,40}$/

/** Applies defaults and rejects bad options (`E_INVALID_OPTION`, naming the option). */
export function resolveOptions(options: PostgresInvalidationOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw invalid('options', 'must be an object: { cache, connectionString, tables }')
  }
  const { cache, connectionString, tables, mode = 'triggers' } = options
  const { name = 'cachegraph', schema = 'cachegraph' } = options
  if (typeof cache?.invalidate !== 'function') {
    throw invalid('cache', 'must be a cache (anything with invalidate(tags))')
  }
  if (typeof connectionString !== 'string' || connectionString.length === 0) {
    throw invalid('connectionString', 'must be a non-empty string')
  }
  if (mode !== 'triggers' && mode !== 'replication') {
    throw invalid('mode', "must be 'triggers' or 'replication'")
  }
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw invalid('name', 'must be 1 to 40 lowercase letters, digits or _')
  }
  if (typeof schema !== 'string' || schema.length === 0 || schema.length > 50) {
    throw invalid('schema', 'must be a non-empty string of at most 50 characters')
  }
  if (typeof tables !== 'object' || tables === null || Object.keys(tables).length === 0) {
    throw invalid('tables', 'must map at least one table to its entity: { products: "product" }')
  }
  const resolved = new Map<string, { entity: string; key: string | undefined }>()
  for (const [table, spec] of Object.entries(tables)) {
    const mapping = typeof spec === 'string' ? { entity: spec } : spec
    if (typeof mapping?.entity !== 'string' || mapping.entity.length === 0) {
      throw invalid(`tables.${table}`, 'needs an entity type: a non-empty string')
    }
    if (mapping.key !== undefined && (typeof mapping.key !== 'string' || mapping.key === '')) {
      throw invalid(`tables.${table}.key`, 'must be a column name')
    }
    resolved.set(table, { entity: mapping.entity, key: mapping.key })
  }
  return {
    cache,
    connectionString,
    tables: resolved,
    mode,
    name,
    schema,
    maxTagsPerCall: positiveInt(options.maxTagsPerCall, 'maxTagsPerCall', 1000),
    idleMs: positiveInt(options.idleMs, 'idleMs', 10_000),
    maxRetryDelayMs: positiveInt(options.maxRetryDelayMs, 'maxRetryDelayMs', 5_000),
  }
}

function positiveInt(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw invalid(option, 'must be a positive integer')
  }
  return value
}
