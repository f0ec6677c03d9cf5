import diagnostics from 'node:diagnostics_channel'

/** Context object of every cachegraph tracing channel. */
export interface TraceContext {
  /** Full key (namespace included), or the tags of an invalidation joined with `,`. */
  key?: string
  tags?: readonly string[]
  /**
   * Of an invalidation: full keys of this process's L1 entries it drops (at most
   * {@link MAX_TRACED_DROPS}, gathered only while someone subscribes).
   */
  dropped?: readonly string[]
  /** Filled in by cachegraph once known, for subscribers' `end` / `asyncEnd` handlers. */
  result?: unknown
  error?: unknown
}

/** Most keys an invalidation's trace context lists in `dropped`. */
export const MAX_TRACED_DROPS = 100

/**
 * `node:diagnostics_channel` tracing channels: `cachegraph:get`, `cachegraph:getOrSet`,
 * `cachegraph:set`, `cachegraph:load` (a loader run, with its shared-tier read) and
 * `cachegraph:invalidate`.
 * Each is a TracingChannel (`tracing:cachegraph:load:start`, `...:asyncEnd`, `...:error`, ...),
 * so APM tools can open a span per operation. Nothing is traced, and nothing costs more than a
 * flag check, while nobody subscribes.
 */
export const channels = {
  get: diagnostics.tracingChannel<unknown, TraceContext>('cachegraph:get'),
  getOrSet: diagnostics.tracingChannel<unknown, TraceContext>('cachegraph:getOrSet'),
  set: diagnostics.tracingChannel<unknown, TraceContext>('cachegraph:set'),
  load: diagnostics.tracingChannel<unknown, TraceContext>('cachegraph:load'),
  invalidate: diagnostics.tracingChannel<unknown, TraceContext>('cachegraph:invalidate'),
} as const

/** Start channel of `get`, checked on the hit path (one property read). */
export const getStarted = diagnostics.channel('tracing:cachegraph:get:start')

/** Start channel of `getOrSet`, checked on its hit path. */
export const getOrSetStarted = diagnostics.channel('tracing:cachegraph:getOrSet:start')

/** Runs `operation` inside `channel`'s trace when someone subscribes, else plainly. */
export function traced<T>(
  channel: (typeof channels)[keyof typeof channels],
  context: TraceContext,
  operation: () => Promise<T>,
): Promise<T> {
  if (!channel.hasSubscribers) return operation()
  return channel.tracePromise(operation, context)
}
