import {
  Events,
  type PostgresInvalidationEventName,
  type PostgresInvalidationEvents,
} from './events.js'
import { resolveOptions, type PostgresInvalidationOptions } from './options.js'
import { openReplicationSession } from './replication-session.js'
import { Retry } from './retry.js'
import type { Session, SessionContext } from './session.js'
import type { ResolvedTable } from './tables.js'
import { openTriggerSession } from './triggers-session.js'

/** A running change capture: see {@link postgresInvalidation}. */
export interface PostgresInvalidation {
  /**
   * Installs what the mode needs (idempotently), reads the stored position (or starts at the
   * current one) and listens. Resolves once every change committed from now on will be
   * captured; rejects if the first connection or the installation fails (a bad table, missing
   * permissions). Later losses are retried for as long as the listener runs.
   */
  start(): Promise<void>
  /** Stops listening and closes the connections. The position stays in the database. */
  close(): Promise<void>
  on<E extends PostgresInvalidationEventName>(
    name: E,
    listener: (payload: PostgresInvalidationEvents[E]) => void,
  ): void
  off<E extends PostgresInvalidationEventName>(
    name: E,
    listener: (payload: PostgresInvalidationEvents[E]) => void,
  ): void
}

/**
 * Invalidates what depends on rows of PostgreSQL tables whenever they change, whoever changes
 * them: every committed INSERT, UPDATE or DELETE of a mapped table invalidates
 * `entityTag(entity, key)` (old and new key when it changes) and `collectionTag(entity)`.
 * At least once, in commit order, from a position stored in the database: nothing committed
 * while the listener was down or disconnected is lost (docs/postgres.md).
 *
 * @example
 * const capture = postgresInvalidation({ cache, connectionString, tables: { products: 'product' } })
 * await capture.start()
 */
export function postgresInvalidation(options: PostgresInvalidationOptions): PostgresInvalidation {
  const resolved = resolveOptions(options)
  const events = new Events()
  const retry = new Retry(resolved.maxRetryDelayMs)
  const context: SessionContext = {
    options: resolved,
    events,
    retry,
    tables: new Map<string, ResolvedTable>(),
    first: true,
  }
  const open = (): Promise<Session> =>
    resolved.mode === 'triggers' ? openTriggerSession(context) : openReplicationSession(context)

  let started: Promise<void> | undefined
  let loop: Promise<void> | undefined
  let session: Session | undefined
  let closed = false

  const run = async (): Promise<void> => {
    for (let delay = 50; !closed;) {
      if (session !== undefined) {
        const cause = await session.ended
        await session.close()
        session = undefined
        if (closed) return
        events.emit('disconnect', { error: cause })
      }
      await retry.sleep(delay)
      if (closed) return
      try {
        session = await open()
        delay = 50
        if (closed) await session.close()
      } catch (error) {
        events.emit('error', { error, operation: 'connect' })
        delay = Math.min(delay * 2, resolved.maxRetryDelayMs)
      }
    }
  }

  return {
    start() {
      started ??= (async () => {
        session = await open()
        context.first = false
        loop = run()
      })()
      return started
    },
    async close() {
      closed = true
      retry.stop()
      await started?.catch(() => {})
      await session?.close()
      await loop
    },
    on: (name, listener) => events.on(name, listener),
    off: (name, listener) => events.off(name, listener),
  }
}
