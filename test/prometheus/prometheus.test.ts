import { Registry } from 'prom-client'
import { afterEach, describe, expect, inject, it } from 'vitest'

import { prometheusMetrics } from '../../src/http/metrics.js'
import { type Cache, createCache, isCacheError, memoryStore } from '../../src/index.js'
import { registerPrometheus } from '../../src/prometheus/index.js'
import { redisBus } from '../../src/redis/bus.js'
import { redisStore } from '../../src/redis/store.js'
import { trusted, uniquePrefix } from '../helpers/tiers.js'

const open: Cache[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((cache) => cache.close()))
})
const cache = (options: Parameters<typeof createCache>[0] = {}) => {
  const made = createCache(options)
  open.push(made)
  return made
}

/** The sample lines of a text exposition, sorted (prom-client orders families its own way). */
const samples = (text: string) =>
  text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .sort()

describe('registerPrometheus (prom-client)', () => {
  it("exposes the cache's counters in the registry, read at each scrape", async () => {
    const registry = new Registry()
    const c = cache({ store: memoryStore() })
    registerPrometheus(c, { registry, labels: { cache: 'app' } })
    await c.getOrSet('a', () => 1, { tags: ['t'] })
    await c.getOrSet('a', () => 1)
    const first = await registry.metrics()
    expect(first).toContain('# TYPE cachegraph_hits_total counter')
    expect(first).toContain('# TYPE cachegraph_l1_entries gauge')
    expect(first).toContain('cachegraph_hits_total{cache="app",tier="l1"} 1')
    expect(first).toContain('cachegraph_loads_total{cache="app"} 1')
    expect(first).toContain('cachegraph_circuit_state{cache="app",state="closed"} 1')

    await c.invalidate('t')
    await c.getOrSet('a', () => 2)
    const second = await registry.metrics()
    expect(second).toContain('cachegraph_loads_total{cache="app"} 2')
    expect(second).toContain('cachegraph_invalidations_total{cache="app"} 1')
    // The same samples as the text exporter: one list of families behind both.
    expect(samples(second)).toEqual(samples(prometheusMetrics(c, { labels: { cache: 'app' } })))
  })

  it("adds the bus's families with a bus", async () => {
    const registry = new Registry()
    const prefix = uniquePrefix()
    const c = await trusted(
      cache({ store: redisStore({ url: inject('redisUrl'), prefix }), bus: redisBus() }),
    )
    registerPrometheus(c, { registry, prefix: 'shop_' })
    const text = await registry.metrics()
    expect(text).toContain('shop_bus_trusted 1')
    expect(text).toMatch(/^shop_bus_messages_total \d+$/m)
  })

  it('unregisters, and keeps several caches apart by prefix', async () => {
    const registry = new Registry()
    const [a, b] = [cache(), cache()]
    const stopA = registerPrometheus(a, { registry, prefix: 'a_' })
    registerPrometheus(b, { registry, prefix: 'b_' })
    expect(() => registerPrometheus(b, { registry, prefix: 'b_' })).toThrow(
      /already been registered/,
    )
    await a.set('x', 1)
    expect(await registry.metrics()).toContain('a_sets_total 1')
    stopA()
    const text = await registry.metrics()
    expect(text).not.toContain('a_sets_total')
    expect(text).toContain('b_sets_total 0')
  })

  it('checks its options, naming them', () => {
    const refuse = (run: () => unknown) => {
      try {
        run()
      } catch (error) {
        expect(isCacheError(error, 'E_INVALID_OPTION')).toBe(true)
        return (error as Error).message
      }
      throw new Error('accepted')
    }
    const c = cache()
    expect(refuse(() => registerPrometheus(c, { registry: {} as Registry }))).toMatch(/`registry`/)
    expect(refuse(() => registerPrometheus(c, { prefix: 'no-dash' }))).toMatch(/`metrics.prefix`/)
    expect(refuse(() => registerPrometheus({} as Cache))).toMatch(/`cache`/)
  })
})
