import diagnostics from 'node:diagnostics_channel'

import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import {
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  MeterProvider,
  MetricReader,
} from '@opentelemetry/sdk-metrics'
import { afterEach, describe, expect, inject, it } from 'vitest'

import { type Cache, createCache, memoryStore } from '../../src/index.js'
import { instrument } from '../../src/otel/index.js'
import { redisBus } from '../../src/redis/bus.js'
import { redisStore } from '../../src/redis/store.js'
import { trusted, uniquePrefix } from '../helpers/tiers.js'

/** Collects on demand, nothing periodic: a test reads exactly what was recorded so far. */
class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE })
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve()
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve()
  }
}

const open: Cache[] = []
const stops: (() => void)[] = []
afterEach(async () => {
  for (const stop of stops.splice(0)) stop()
  await Promise.all(open.splice(0).map((cache) => cache.close()))
})

function setup(options: { caches?: Cache[]; reads?: boolean } = {}) {
  const exporter = new InMemorySpanExporter()
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  })
  const reader = new TestReader()
  const meterProvider = new MeterProvider({ readers: [reader] })
  const stop = instrument({ tracerProvider, meterProvider, ...options })
  stops.push(stop)
  const spans = () => exporter.getFinishedSpans()
  const named = (name: string) => spans().filter((span) => span.name === `cachegraph.${name}`)
  const points = async (metric: string) => {
    const { resourceMetrics } = await reader.collect()
    const found = resourceMetrics.scopeMetrics
      .flatMap((scope) => scope.metrics)
      .find((m) => m.descriptor.name === metric)
    return (found?.dataPoints ?? []) as DataPoint<unknown>[]
  }
  return { spans, named, points, stop, reset: () => exporter.reset() }
}

const cache = (options: Parameters<typeof createCache>[0] = {}) => {
  const made = createCache(options)
  open.push(made)
  return made
}

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId

describe('cachegraph/otel', () => {
  it('opens a span per getOrSet, get, set and loader run; the loader nests under the getOrSet that ran it', async () => {
    const otel = setup()
    const c = cache({ store: memoryStore() })
    expect(await c.getOrSet('user:1', () => 'Ada', { tags: ['user:1'] })).toBe('Ada')
    expect(await c.getOrSet('user:1', () => 'never')).toBe('Ada')
    expect(await c.get('user:1')).toBe('Ada')
    expect(await c.get('nobody')).toBeUndefined()
    await c.set('x', 1)

    const [miss, hit] = otel.named('getOrSet')
    expect(miss?.attributes).toMatchObject({
      'cachegraph.key': 'cg::user:1',
      'cachegraph.loaded': true,
    })
    expect(hit?.attributes).toMatchObject({ 'cachegraph.loaded': false })
    const [load] = otel.named('load')
    expect(otel.named('load')).toHaveLength(1)
    expect(load?.attributes['cachegraph.key']).toBe('cg::user:1')
    expect(parentOf(load!)).toBe(miss?.spanContext().spanId)
    expect(parentOf(miss!)).toBeUndefined()
    // The load's write is a set under it; `cache.set` is one of its own.
    const sets = otel.named('set')
    expect(sets.map((s) => s.attributes['cachegraph.key'])).toEqual(['cg::user:1', 'cg::x'])
    expect(parentOf(sets[0]!)).toBe(load?.spanContext().spanId)
    expect(parentOf(sets[1]!)).toBeUndefined()
    expect(otel.named('get').map((s) => s.attributes['cachegraph.hit'])).toEqual([true, false])
  })

  it('lists what an invalidation dropped from this process, and records loader failures', async () => {
    const otel = setup()
    const c = cache()
    await c.getOrSet('a', () => 1, { tags: ['user:1'] })
    await c.getOrSet('b', () => 2, { tags: ['user:1', 'team:1'] })
    await c.getOrSet('c', () => 3, { tags: ['team:2'] })
    await c.namespace('admin').getOrSet('d', () => 4, { tags: ['user:1'] })
    await c.invalidate(['user:1', 'nobody'])
    const [span] = otel.named('invalidate')
    expect(span?.attributes).toMatchObject({
      'cachegraph.tags': ['user:1', 'nobody'],
      'cachegraph.tags.count': 2,
      'cachegraph.dropped.count': 3,
    })
    expect(span?.attributes['cachegraph.seq']).toBeTypeOf('number')
    expect([...(span?.attributes['cachegraph.dropped'] as string[])].sort()).toEqual([
      'cg::a',
      'cg::b',
      'cg:admin::d',
    ])

    const failure = Object.assign(new Error('db down'), { code: 'E_DB' })
    await expect(c.getOrSet('e', () => Promise.reject(failure))).rejects.toBe(failure)
    const failed = otel.named('load').find((s) => s.attributes['cachegraph.key'] === 'cg::e')
    expect(failed?.status).toMatchObject({ code: 2, message: 'db down' })
    expect(failed?.attributes['cachegraph.error.code']).toBe('E_DB')
    expect(failed?.events[0]?.name).toBe('exception')
    expect(otel.named('getOrSet').at(-1)?.status.code).toBe(2)
  })

  it('names the processes that acknowledged, and those that were late (ack: true)', async () => {
    const otel = setup({ reads: false })
    const prefix = uniquePrefix()
    const member = async () =>
      trusted(
        cache({
          store: redisStore({ url: inject('redisUrl'), prefix }),
          bus: redisBus({ maxSilence: 400 }),
        }),
      )
    const [a, b] = [await member(), await member()]
    await b.getOrSet('k', () => 1, { tags: ['t'] })
    const result = await a.invalidate('t', { ack: true })
    expect(result.fleet).toMatchObject({ members: 1, acked: 1 })
    const [span] = otel.named('invalidate')
    expect(span?.attributes).toMatchObject({
      'cachegraph.tags': ['t'],
      'cachegraph.dropped.count': 0, // b's entry, not a's
      'cachegraph.fleet.members': 1,
      'cachegraph.fleet.acked': 1,
      'cachegraph.fleet.late': [],
    })
    expect(span?.attributes['cachegraph.fleet.waited_ms']).toBeTypeOf('number')
    // Which processes acknowledged: their member ids on the bus.
    expect(result.fleet?.applied).toHaveLength(1)
    expect(span?.attributes['cachegraph.fleet.applied']).toEqual(result.fleet?.applied)
    expect(otel.named('getOrSet')).toEqual([]) // reads: false
  })

  it('measures hits, misses and errors by tier, loader durations and invalidations', async () => {
    const c = cache({ store: memoryStore(), l1: { maxEntries: 10 } })
    const otel = setup({ caches: [c] })
    await c.getOrSet('a', () => 1)
    await c.getOrSet('a', () => 1)
    await c.getOrSet('a', () => 1)
    await expect(c.getOrSet('b', () => Promise.reject(new Error('no')))).rejects.toThrow('no')
    await c.invalidate('t')
    await c.delete('a')

    const byTier = (points: DataPoint<unknown>[]): Record<string, unknown> =>
      Object.fromEntries(points.map((p) => [String(p.attributes['cachegraph.tier']), p.value]))
    expect(byTier(await otel.points('cachegraph.hits'))).toEqual({ l1: 2, l2: 0 })
    expect(byTier(await otel.points('cachegraph.misses'))).toEqual({ l1: 2, l2: 2 })
    expect(byTier(await otel.points('cachegraph.errors'))).toEqual({ l2: 0 })
    const loads = await otel.points('cachegraph.load.duration')
    const count = (outcome: string) => {
      const point = loads.find((p) => p.attributes['cachegraph.outcome'] === outcome)
      return (point as DataPoint<Histogram> | undefined)?.value.count
    }
    expect([count('ok'), count('error')]).toEqual([1, 1])
    const invalidations = await otel.points('cachegraph.invalidations')
    expect(invalidations.map((p) => [p.attributes['cachegraph.outcome'], p.value])).toEqual([
      ['ok', 2],
    ])
  })

  it('unsubscribes: no spans, no cost on the read path afterwards', async () => {
    const get = diagnostics.channel('tracing:cachegraph:get:start')
    const otel = setup()
    expect(get.hasSubscribers).toBe(true)
    otel.stop()
    otel.stop() // twice is harmless
    expect(get.hasSubscribers).toBe(false)
    expect(diagnostics.channel('tracing:cachegraph:load:start').hasSubscribers).toBe(false)
    const c = cache()
    await c.getOrSet('a', () => 1)
    await c.invalidate('t')
    expect(otel.spans()).toEqual([])
  })
})
