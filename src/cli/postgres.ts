import type { Cache } from '../index.js'
import type { PostgresInvalidation, TableMapping } from '../postgres/index.js'
import { urlFlag } from './args.js'
import { UsageError } from './exit-codes.js'

/** The `serve` flags of the change capture from PostgreSQL (docs/postgres.md). */
export const POSTGRES_OPTIONS = {
  postgres: { type: 'string' },
  table: { type: 'string', multiple: true },
  'postgres-mode': { type: 'string', default: 'triggers' },
  'postgres-name': { type: 'string', default: 'cachegraph' },
} as const

export interface PostgresFlags {
  postgres?: string
  table?: string[]
  'postgres-mode'?: string
  'postgres-name'?: string
}

/** What `serve` captures: `undefined` without `--postgres`. */
export interface CaptureConfig {
  url: string
  tables: Record<string, TableMapping>
  mode: 'triggers' | 'replication'
  name: string
}

/**
 * `--table products=product`, `--table shop.order_items=orderItem:id` (entity, then the key
 * column when it is not the primary key). Usage errors name the flag.
 */
export function captureConfig(values: PostgresFlags): CaptureConfig | undefined {
  const specs = values.table ?? []
  if (values.postgres === undefined) {
    if (specs.length > 0) throw new UsageError('--table needs --postgres URL')
    return undefined
  }
  urlFlag(values.postgres, '--postgres', ['postgres:', 'postgresql:'], 'postgres://localhost/shop')
  if (specs.length === 0) {
    throw new UsageError(
      '--postgres needs at least one --table TABLE=ENTITY (e.g. products=product)',
    )
  }
  const tables: Record<string, TableMapping> = {}
  for (const spec of specs) {
    const match = /^([^=\s]+)=([^:=\s]+)(?::([^:=\s]+))?$/.exec(spec)
    if (match === null) {
      throw new UsageError(
        `--table takes TABLE=ENTITY or TABLE=ENTITY:KEY (e.g. products=product), got ${JSON.stringify(spec)}`,
      )
    }
    const [, table, entity, key] = match as unknown as [string, string, string, string | undefined]
    tables[table] = key === undefined ? { entity } : { entity, key }
  }
  const mode = values['postgres-mode'] ?? 'triggers'
  if (mode !== 'triggers' && mode !== 'replication') {
    throw new UsageError(
      `--postgres-mode takes triggers or replication, got ${JSON.stringify(mode)}`,
    )
  }
  return { url: values.postgres, tables, mode, name: values['postgres-name'] ?? 'cachegraph' }
}

/**
 * Starts the capture on the service's cache and logs what it does; `pg` (an optional peer
 * dependency) is loaded only here.
 */
export async function startCapture(
  config: CaptureConfig,
  cache: Cache,
  say: (message: string) => void,
): Promise<PostgresInvalidation> {
  const { postgresInvalidation } = await import('../postgres/index.js')
  const capture = postgresInvalidation({
    cache,
    connectionString: config.url,
    tables: config.tables,
    mode: config.mode,
    name: config.name,
  })
  const message = (error: unknown) => (error instanceof Error ? error.message : String(error))
  capture.on('error', ({ error, operation }) => say(`postgres ${operation}: ${message(error)}`))
  capture.on('disconnect', ({ error }) => say(`postgres: connection lost (${message(error)})`))
  try {
    await capture.start()
  } catch (error) {
    await capture.close()
    throw error
  }
  say(
    `postgres: capturing ${Object.keys(config.tables).join(', ')} (${config.mode}, listener '${config.name}')`,
  )
  return capture
}
