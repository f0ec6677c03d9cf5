import type { ClientConfig } from 'pg'

import type { Events } from './events.js'
import type { ResolvedOptions } from './options.js'
import type { Retry } from './retry.js'
import type { ResolvedTable } from './tables.js'

/** What a capture session needs from its listener. */
export interface SessionContext {
  options: ResolvedOptions
  events: Events
  retry: Retry
  /** Mapped tables by `schema.table`, resolved again by each session. */
  tables: Map<string, ResolvedTable>
  /** True on the first session: install what the mode needs, start at the current position. */
  first: boolean
}

/** One connection's worth of capture; the listener opens a new one after a loss. */
export interface Session {
  /** Settles (with the cause) when the connection is lost or the session closed. */
  readonly ended: Promise<unknown>
  close(): Promise<void>
}

/** How the listener's connections introduce themselves (seen in `pg_stat_activity`). */
export const clientConfig = (options: ResolvedOptions): ClientConfig => ({
  connectionString: options.connectionString,
  application_name: `cachegraph:${options.name}`,
})
