import { setTimeout as sleep } from 'node:timers/promises'

import { afterEach, describe, expect, it } from 'vitest'

import { createClientWithTiming } from '../../src/client/client.js'
import type { ClientEvents } from '../../src/client/events.js'
import { createInvalidationClient, type InvalidationClient } from '../../src/client/index.js'
import { fastTiming } from './fast-timing.js'
import { restartableService } from './restartable-service.js'

/**
 * The client with its DEFAULT options against a real `cachegraph serve` that restarts while
 * invalidations are being sent: nothing may be lost. The outage is part of the scenario (a
 * service that is down for 2 s), so it is the one place these tests wait for time.
 */
const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

const TOTAL = 5_000
const DOWN_MS = 2_000

/** What became of every tag: sent (the service answered 200 for it) or dropped. */
function outcome(client: InvalidationClient) {
  const sent = new Set<string>()
  const dropped: ClientEvents['dropped'][] = []
  client.on('sent', ({ items }) => {
    for (const item of items) if ('tag' in item) sent.add(item.tag)
  })
  client.on('dropped', (event) => dropped.push(event))
  const firstSent = new Promise<void>((resolve) => client.on('sent', () => resolve()))
  return { sent, dropped, firstSent }
}

const tags = (from: number, to: number, name = 'restart') =>
  Array.from({ length: to - from }, (_, i) => `${name}:${from + i}`)

const droppedCount = (dropped: readonly ClientEvents['dropped'][]) =>
  dropped.reduce((n, d) => n + d.items.length, 0)

describe('the client across a restart of cachegraph serve (default options)', () => {
  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(
      `loses nothing when the service is ${signal}ed and back after 2 s`,
      { timeout: 60_000 },
      async () => {
        const service = await restartableService()
        cleanup.push(service.close)
        const client = createInvalidationClient({ apiUrl: service.url })
        cleanup.push(() => client.close())
        const { sent, dropped, firstSent } = outcome(client)
        // 1,000 queued; stopped once the first batch was answered, so the next is in flight.
        client.invalidate(tags(0, 1_000))
        await firstSent
        await service.stop(signal)
        // 3,000 more while it is down (paced, as an app's writes would come), then it is back.
        for (let i = 1_000; i < 4_000; i += 500) {
          client.invalidate(tags(i, i + 500))
          await sleep(DOWN_MS / 6)
        }
        await service.start()
        client.invalidate(tags(4_000, TOTAL))
        await client.flush()
        const lost = TOTAL - sent.size
        expect({ lost, dropped: droppedCount(dropped) }).toEqual({ lost: 0, dropped: 0 })
      },
    )
  }

  it(
    'three clients, two restarts (SIGKILL, then SIGTERM): nothing lost',
    { timeout: 90_000 },
    async () => {
      const service = await restartableService()
      cleanup.push(service.close)
      const clients = ['a', 'b', 'c'].map((name) => {
        const client = createInvalidationClient({ apiUrl: service.url })
        cleanup.push(() => client.close())
        return { name, client, ...outcome(client) }
      })
      const send = (from: number, to: number) =>
        clients.forEach(({ name, client }) => client.invalidate(tags(from, to, name)))
      send(0, 1_000)
      await Promise.all(clients.map((c) => c.firstSent))
      let next = 1_000
      for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
        await service.stop(signal)
        for (let i = 0; i < 3; i++, next += 500) {
          send(next, next + 500)
          await sleep(DOWN_MS / 3)
        }
        await service.start()
        send(next, next + 500)
        next += 500
      }
      await Promise.all(clients.map(({ client }) => client.flush()))
      expect(next).toBe(TOTAL)
      const lost = clients.reduce((n, c) => n + TOTAL - c.sent.size, 0)
      const dropped = clients.reduce((n, c) => n + droppedCount(c.dropped), 0)
      expect({ lost, dropped }).toEqual({ lost: 0, dropped: 0 })
    },
  )

  // A 30 s outage as the client sees it, on a clock 5 times faster than the wall clock (its
  // timers and its deadline alike): 6 s of waiting, plus the restart.
  it('a 30 s outage loses nothing either', { timeout: 60_000 }, async () => {
    const service = await restartableService()
    cleanup.push(service.close)
    const timing = fastTiming(5)
    const client = createClientWithTiming({ apiUrl: service.url }, timing)
    cleanup.push(() => client.close())
    const { sent, dropped, firstSent } = outcome(client)
    client.invalidate(tags(0, 1_000))
    await firstSent
    await service.stop('SIGKILL')
    const down = timing.now()
    for (let i = 1_000; i < 4_000; i += 500) {
      client.invalidate(tags(i, i + 500))
      await sleep(30_000 / 5 / 6)
    }
    await service.start()
    const outage = timing.now() - down
    client.invalidate(tags(4_000, TOTAL))
    await client.flush()
    expect(outage).toBeGreaterThanOrEqual(30_000)
    expect({ lost: TOTAL - sent.size, dropped: droppedCount(dropped) }).toEqual({
      lost: 0,
      dropped: 0,
    })
  })
})
