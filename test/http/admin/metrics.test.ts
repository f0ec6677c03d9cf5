import { describe, expect, it } from 'vitest'

import {
  prometheusMetrics,
  PROMETHEUS_CONTENT_TYPE,
  type PrometheusOptions,
} from '../../../src/http/metrics.js'
import type { CacheStats } from '../../../src/index.js'
import { ADMIN_TIERS, makeCache, parseMetrics } from './admin-fixtures.js'

const STATS: CacheStats = {
  hits: 7,
  misses: 3,
  hitRate: 0.7,
  sets: 4,
  deletes: 1,
  invalidations: 2,
  errors: 5,
  loads: 3,
  l1: { hits: 6, misses: 4, entries: 9, knownTags: 11 },
  l2: { hits: 1, misses: 3, errors: 2, replayQueue: 12, circuit: 'half-open' },
  bus: {
    trusted: true,
    seq: 1_700_000_000_000_123,
    messages: 40,
    gaps: 1,
    replayed: 2,
    startOvers: 1,
    distrusts: 3,
  },
}

/** HELP and TYPE come once per family, before its samples; counters end in `_total`. */
function checkFamilies(text: string): void {
  const typed = new Map<string, string>()
  const helped = new Set<string>()
  for (const line of text.trimEnd().split('\n')) {
    const comment = /^# (HELP|TYPE) (\S+) (.+)$/.exec(line)
    if (comment !== null) {
      const [, what, name, rest] = comment as unknown as [string, string, string, string]
      if (what === 'HELP') {
        expect(helped.has(name), `HELP ${name} twice`).toBe(false)
        helped.add(name)
      } else {
        expect(typed.has(name), `TYPE ${name} twice`).toBe(false)
        expect(['counter', 'gauge']).toContain(rest)
        if (rest === 'counter') expect(name).toMatch(/_total$/)
        typed.set(name, rest)
      }
      continue
    }
    const name = /^[^{ ]+/.exec(line)?.[0] ?? ''
    expect(typed.has(name), `sample of ${name} before its TYPE`).toBe(true)
    expect(helped.has(name), `sample of ${name} before its HELP`).toBe(true)
  }
}

describe('prometheusMetrics', () => {
  it('renders every counter and gauge of a stats snapshot', () => {
    const text = prometheusMetrics(STATS)
    checkFamilies(text)
    const samples = parseMetrics(text)
    expect(Object.fromEntries(samples)).toEqual({
      'cachegraph_hits_total{tier="l1"}': 6,
      'cachegraph_hits_total{tier="l2"}': 1,
      cachegraph_misses_total: 3,
      'cachegraph_tier_misses_total{tier="l1"}': 4,
      'cachegraph_tier_misses_total{tier="l2"}': 3,
      cachegraph_sets_total: 4,
      cachegraph_deletes_total: 1,
      cachegraph_invalidations_total: 2,
      cachegraph_errors_total: 5,
      cachegraph_store_errors_total: 2,
      cachegraph_loads_total: 3,
      cachegraph_l1_entries: 9,
      cachegraph_known_tags: 11,
      cachegraph_replay_queue: 12,
      'cachegraph_circuit_state{state="closed"}': 0,
      'cachegraph_circuit_state{state="open"}': 0,
      'cachegraph_circuit_state{state="half-open"}': 1,
      cachegraph_bus_trusted: 1,
      cachegraph_bus_seq: 1_700_000_000_000_123,
      cachegraph_bus_messages_total: 40,
      cachegraph_bus_gaps_total: 1,
      cachegraph_bus_replayed_total: 2,
      cachegraph_bus_start_overs_total: 1,
      cachegraph_bus_distrusts_total: 3,
    })
    expect(text).toContain('# TYPE cachegraph_hits_total counter\n')
    expect(text).toContain('# TYPE cachegraph_l1_entries gauge\n')
    expect(text).toMatch(/^# HELP cachegraph_replay_queue \S.*$/m)
  })

  it('leaves the bus families out without a bus', () => {
    const { bus: _bus, ...withoutBus } = STATS
    const text = prometheusMetrics(withoutBus)
    expect(text).not.toContain('bus_')
    checkFamilies(text)
  })

  it('takes a prefix and constant labels, escaping label values', () => {
    const text = prometheusMetrics(STATS, {
      prefix: 'myapp_cache_',
      labels: { cache: 'a "quoted"\\path\nnext' },
    })
    const samples = parseMetrics(text)
    expect(
      samples.get('myapp_cache_hits_total{cache="a \\"quoted\\"\\\\path\\nnext",tier="l1"}'),
    ).toBe(6)
    expect(samples.get('myapp_cache_misses_total{cache="a \\"quoted\\"\\\\path\\nnext"}')).toBe(3)
    expect(text).not.toContain('cachegraph_')
  })

  it('refuses a prefix or label name Prometheus would reject', () => {
    const refused: PrometheusOptions[] = [
      { prefix: '1bad' },
      { prefix: 'bad-prefix' },
      { labels: { 'bad-name': 'x' } },
      { labels: { __reserved: 'x' } },
    ]
    for (const options of refused) {
      expect(() => prometheusMetrics(STATS, options), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: 'E_INVALID_OPTION' }),
      )
    }
  })

  it('exposes the 0.0.4 text content type', () => {
    expect(PROMETHEUS_CONTENT_TYPE).toBe('text/plain; version=0.0.4; charset=utf-8')
  })

  it.each(ADMIN_TIERS)('reads a live cache (%s)', async (_name, tiers) => {
    const cache = makeCache(tiers())
    await cache.set('a', 1, { tags: ['t'] })
    await cache.get('a')
    await cache.get('b')
    await cache.invalidate('t')
    const samples = parseMetrics(prometheusMetrics(cache))
    const stats = cache.stats()
    expect(samples.get('cachegraph_hits_total{tier="l1"}')).toBe(stats.l1.hits)
    expect(samples.get('cachegraph_hits_total{tier="l1"}')).toBe(1)
    expect(samples.get('cachegraph_misses_total')).toBe(1)
    expect(samples.get('cachegraph_invalidations_total')).toBe(stats.invalidations)
    expect(samples.get('cachegraph_invalidations_total')).toBeGreaterThan(0)
    expect(samples.get('cachegraph_circuit_state{state="closed"}')).toBe(1)
  })
})
