import { AsyncLocalStorage } from 'node:async_hooks'
import diagnostics from 'node:diagnostics_channel'

import {
  type Attributes,
  type AttributeValue,
  context,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from '@opentelemetry/api'

/** The context object cachegraph passes on its tracing channels (src/cache/tracing.ts). */
export interface ChannelContext {
  key?: string
  tags?: readonly string[]
  dropped?: readonly string[]
  result?: unknown
  error?: unknown
}

/** The tracing channels, by the operation they trace. */
export const OPERATIONS = ['get', 'getOrSet', 'set', 'load', 'invalidate'] as const
export type Operation = (typeof OPERATIONS)[number]

/** Most tags an invalidation span lists (the count is always there). */
const MAX_LISTED_TAGS = 100

/** What a metric hears when a traced operation ends. */
export type Ended = (operation: Operation, ms: number, error: unknown) => void

export interface Open {
  span: Span | undefined
  started: number
  /** A `getOrSet` whose caller ran the loader (a `load` began under it). */
  loaded: boolean
}

/** The operation open in the current async context; one store for all of one `instrument()`. */
export type OpenOperations = AsyncLocalStorage<Open>

export const openOperations = (): OpenOperations => new AsyncLocalStorage<Open>()

/**
 * Subscribes to one channel: a span per operation (when a tracer is given), nested under the
 * cachegraph operation that started it — `current`, bound to every channel's start, carries the
 * open operation through its async work (a subscriber cannot enter an OpenTelemetry context) —
 * else under the caller's active span. Returns the unsubscribe.
 */
export function traceChannel(
  operation: Operation,
  tracer: Tracer | undefined,
  ended: Ended,
  current: OpenOperations,
): () => void {
  const channel = diagnostics.tracingChannel<unknown, ChannelContext>(`cachegraph:${operation}`)
  const open = new WeakMap<object, Open>()
  const begin = (ctx: ChannelContext): Open => {
    const parent = current.getStore()
    if (operation === 'load' && parent !== undefined) parent.loaded = true
    const span = tracer?.startSpan(
      `cachegraph.${operation}`,
      { kind: SpanKind.INTERNAL, attributes: startAttributes(operation, ctx) },
      parent?.span === undefined ? context.active() : trace.setSpan(context.active(), parent.span),
    )
    const state: Open = { span, started: performance.now(), loaded: false }
    open.set(ctx, state)
    return state
  }
  const finish = (ctx: ChannelContext) => {
    const state = open.get(ctx)
    if (state === undefined) return
    open.delete(ctx)
    ended(operation, performance.now() - state.started, ctx.error)
    const { span } = state
    if (span === undefined) return
    if (ctx.error === undefined) span.setAttributes(endAttributes(operation, ctx, state))
    else {
      span.recordException(ctx.error instanceof Error ? ctx.error : messageOf(ctx.error))
      const { error } = ctx
      if (typeof error === 'object' && error !== null && 'code' in error) {
        if (typeof error.code === 'string') span.setAttribute('cachegraph.error.code', error.code)
      }
      span.setStatus({ code: SpanStatusCode.ERROR, message: messageOf(ctx.error) })
    }
    span.end()
  }
  // The transform runs before `start` is published, in the caller's context: the span opens there.
  channel.start.bindStore(current, (ctx) => begin(ctx))
  const handlers = {
    start() {},
    // A synchronous throw ends here with `error` set; a returned promise ends at `asyncEnd`.
    end(ctx: ChannelContext) {
      if (ctx.error !== undefined) finish(ctx)
    },
    asyncStart() {},
    asyncEnd: finish,
    error() {},
  }
  channel.subscribe(handlers)
  return () => {
    channel.unsubscribe(handlers)
    channel.start.unbindStore(current)
  }
}

function startAttributes(operation: Operation, ctx: ChannelContext): Attributes {
  const attributes: Attributes = {}
  if (ctx.key !== undefined) attributes['cachegraph.key'] = ctx.key
  if (ctx.tags !== undefined) {
    attributes['cachegraph.tags'] = ctx.tags.slice(0, MAX_LISTED_TAGS)
    attributes['cachegraph.tags.count'] = ctx.tags.length
  }
  if (operation === 'invalidate' && ctx.dropped !== undefined) {
    attributes['cachegraph.dropped'] = [...ctx.dropped]
    attributes['cachegraph.dropped.count'] = ctx.dropped.length
  }
  return attributes
}

function endAttributes(operation: Operation, ctx: ChannelContext, state: Open): Attributes {
  if (operation === 'get') return { 'cachegraph.hit': ctx.result !== undefined }
  if (operation === 'getOrSet') return { 'cachegraph.loaded': state.loaded }
  if (operation !== 'invalidate') return {}
  const result = ctx.result as { seq?: unknown; fleet?: Record<string, unknown> } | undefined
  const attributes: Attributes = {}
  if (typeof result?.seq === 'number') attributes['cachegraph.seq'] = result.seq
  // With `ack: true`: how many processes acknowledged, which were late, how long it took.
  for (const [name, value] of Object.entries(result?.fleet ?? {})) {
    const attribute = attributeOf(value)
    if (attribute !== undefined) attributes[`cachegraph.fleet.${snake(name)}`] = attribute
  }
  return attributes
}

function attributeOf(value: unknown): AttributeValue | undefined {
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') {
    return value
  }
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value
  return undefined
}

const snake = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message
  return typeof error === 'string' ? error : Object.prototype.toString.call(error)
}
