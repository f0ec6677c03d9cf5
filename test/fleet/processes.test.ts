import { afterAll, describe, expect, inject, it } from 'vitest'

import type { CacheStats } from '../../src/cache/stats.js'
import { redisClient, uniquePrefix } from '../helpers/tiers.js'
import { type Member, startMember } from './fleet.js'

const MAX_SILENCE_MS = 300
const members: Member[] = []
afterAll(() => Promise.all(members.map((m) => m.stop())))

async function fleet(count: number, prefix = uniquePrefix()): Promise<Member[]> {
  const started = await Promise.all(
    Array.from({ length: count }, () => startMember(inject('redisUrl'), prefix, MAX_SILENCE_MS)),
  )
  members.push(...started)
  return started
}

/** Kills one connection: the subscriber of `member`'s bus, found by its client name. */
async function killSubscription(member: Member): Promise<void> {
  const name = await member.call<string>('clientName')
  const list = (await redisClient().client('LIST')) as string
  const id = /\bid=(\d+)/.exec(list.split('\n').find((l) => l.includes(`name=${name}`)) ?? '')
  expect(id?.[1]).toBeDefined()
  await redisClient().client('KILL', 'ID', id?.[1] as string)
}

describe('a fleet of processes on one Redis', () => {
  it('an invalidation in one process is applied in the others', async () => {
    const [a, b, c] = await fleet(3)
    const [va, vb] = [
      await a!.call<string>('getOrSet', 'k', ['t']),
      await b!.call<string>('getOrSet', 'k', ['t']),
    ]
    expect(vb).toBe(va) // b got a's value from Redis
    expect(await b!.call('getOrSet', 'k', ['t'])).toBe(va) // and now from its L1
    const { seq } = await c!.call<{ seq: number }>('invalidate', ['t'])
    expect(await a!.call<number>('applied', seq)).toBeGreaterThanOrEqual(seq)
    expect(await b!.call<number>('applied', seq)).toBeGreaterThanOrEqual(seq)
    const [na, nb] = [
      await a!.call<string>('getOrSet', 'k', ['t']),
      await b!.call<string>('getOrSet', 'k', ['t']),
    ]
    expect(na).not.toBe(va)
    expect(nb).toBe(na)
  })

  it('a killed subscription is detected: the L1 is distrusted until the process caught up', async () => {
    const [a, b] = await fleet(2)
    const before = await b!.call<string>('getOrSet', 'k', ['t'])
    const distrusted = b!.next('bus:distrusted')
    await killSubscription(b!)
    expect(await distrusted).toEqual({ reason: 'lost' })
    await a!.call('invalidate', ['t'])
    expect(await b!.call('getOrSet', 'k', ['t'])).not.toBe(before)
    const stats = await b!.call<CacheStats>('stats')
    expect(stats.bus?.distrusts).toBeGreaterThanOrEqual(1)
  })

  it('with lock: true, ten processes missing the same keys run one loader per key', async () => {
    const prefix = uniquePrefix()
    const ten = await fleet(10, prefix)
    const keys = ['a', 'b', 'c']
    const results = await Promise.all(
      keys.flatMap((key) =>
        ten.map((m) => m.call<string>('lockedLoad', key, `${prefix}:loads:${key}`, 150)),
      ),
    )
    for (const [k, key] of keys.entries()) {
      expect(await redisClient().get(`${prefix}:loads:${key}`)).toBe('1')
      expect(new Set(results.slice(k * 10, k * 10 + 10)).size).toBe(1) // everyone got that value
    }
  })

  it('a process paused past maxSilence does not serve what it missed', async () => {
    const [a, b] = await fleet(2)
    const before = await b!.call<string>('getOrSet', 'k', ['t'])
    expect(await b!.call('getOrSet', 'k', ['t'])).toBe(before)
    b!.process.kill('SIGSTOP')
    try {
      await a!.call('invalidate', ['t'])
      await new Promise((resolve) => setTimeout(resolve, MAX_SILENCE_MS * 2))
    } finally {
      b!.process.kill('SIGCONT')
    }
    expect(await b!.call('getOrSet', 'k', ['t'])).not.toBe(before)
    // On resume the silence check ran before anything else: it stopped trusting its L1.
    expect((await b!.call<CacheStats>('stats')).bus?.distrusts).toBeGreaterThanOrEqual(1)
  })
})
