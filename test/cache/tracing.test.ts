import diagnostics from 'node:diagnostics_channel'

import { afterEach, describe, expect, it } from 'vitest'

import { createCache } from '../../src/index.js'

type Handlers = Parameters<ReturnType<typeof diagnostics.tracingChannel>['subscribe']>[0]

describe('diagnostics_channel tracing', () => {
  const subscriptions: [string, Handlers][] = []
  const subscribe = (name: string, seen: string[]) => {
    const handlers: Handlers = {
      start: (ctx) =>
        seen.push(
          `${name}:start ${JSON.stringify((ctx as { key?: string }).key ?? (ctx as { tags?: string[] }).tags)}`,
        ),
      end: () => {},
      asyncStart: () => {},
      asyncEnd: () => seen.push(`${name}:asyncEnd`),
      error: (ctx) =>
        seen.push(`${name}:error ${String((ctx as { error?: Error }).error?.message)}`),
    }
    diagnostics.tracingChannel(`cachegraph:${name}`).subscribe(handlers)
    subscriptions.push([name, handlers])
  }
  afterEach(() => {
    for (const [name, handlers] of subscriptions.splice(0))
      diagnostics.tracingChannel(`cachegraph:${name}`).unsubscribe(handlers)
  })

  it('traces get, set, load and invalidate when subscribed', async () => {
    const seen: string[] = []
    for (const name of ['get', 'set', 'load', 'invalidate']) subscribe(name, seen)
    const cache = createCache({ namespace: 'traced' })
    await cache.getOrSet('a', () => 1)
    await cache.set('b', 2)
    await cache.get('b')
    await cache.invalidate('t')
    await cache.getOrSet('c', () => Promise.reject(new Error('boom'))).catch(() => {})
    expect(seen).toEqual([
      'load:start "traced::a"',
      'set:start "traced::a"',
      'set:asyncEnd',
      'load:asyncEnd',
      'set:start "traced::b"',
      'set:asyncEnd',
      'get:start "b"',
      'get:asyncEnd',
      'invalidate:start ["t"]',
      'invalidate:asyncEnd',
      'load:start "traced::c"',
      'load:error boom',
      'load:asyncEnd',
    ])
  })

  it('costs nothing observable when nobody subscribes', async () => {
    const cache = createCache()
    await cache.set('a', 1)
    expect(await cache.get('a')).toBe(1)
    expect(diagnostics.tracingChannel('cachegraph:get').hasSubscribers).toBe(false)
  })
})
