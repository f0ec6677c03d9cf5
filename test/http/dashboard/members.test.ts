import { describe, expect, it } from 'vitest'

import { createAdminHandler } from '../../../src/http/index.js'
import { createCache, memoryStore } from '../../../src/index.js'
import { uniquePrefix } from '../../helpers/tiers.js'
import { makeCache, request } from '../admin/admin-fixtures.js'
import { fleetMember } from './fleet-fixture.js'

interface MembersAnswer {
  self: { pid: number; bus: { trusted: boolean } | null }
  members: { id: string; pid: number | null; seen_at: string; age_ms: number; self: boolean }[]
}

describe('cache.members()', () => {
  it('lists every member of the bus, this cache marked self, newest first', async () => {
    const prefix = uniquePrefix()
    const one = await fleetMember(prefix)
    const two = await fleetMember(prefix)
    const seen = await one.cache.members()
    expect(seen).toHaveLength(2)
    expect(seen.filter((member) => member.self)).toHaveLength(1)
    for (const member of seen) {
      expect(member.id).toMatch(/^cachegraph-bus-\d+-[0-9a-f]+$/)
      expect(member.pid).toBe(process.pid)
      expect(member.seenAt).toBeGreaterThan(Date.now() - 60_000)
    }
    expect(seen[0]!.seenAt).toBeGreaterThanOrEqual(seen[1]!.seenAt)
    // Each cache is itself, and the other is not: one self per view, a different one each.
    const fromTwo = await two.cache.members()
    const selfOf = (list: typeof seen) => list.find((member) => member.self)?.id
    expect(selfOf(fromTwo)).not.toBe(selfOf(seen))
    expect(new Set(fromTwo.map((member) => member.id))).toEqual(
      new Set(seen.map((member) => member.id)),
    )
    // A member that leaves (close) is no longer listed.
    await two.cache.close()
    expect((await one.cache.members()).map((member) => member.id)).toEqual([selfOf(seen)])
  })

  it('is empty without a bus, and rejects once closed', async () => {
    const cache = createCache({ store: memoryStore() })
    expect(await cache.members()).toEqual([])
    await cache.close()
    await expect(cache.members()).rejects.toMatchObject({ code: 'E_CLOSED' })
  })
})

describe('GET /members', () => {
  it('answers the fleet from cache.members(), with pids, ages and this cache marked', async () => {
    const prefix = uniquePrefix()
    const one = await fleetMember(prefix)
    await fleetMember(prefix)
    const admin = createAdminHandler({ cache: one.cache, insecure: true })
    const response = (await admin(request('GET', '/api/cache/members')))!
    expect(response.status).toBe(200)
    const body = (await response.json()) as MembersAnswer
    expect(body.self).toMatchObject({ pid: process.pid, bus: { trusted: true } })
    expect(body.members).toHaveLength(2)
    expect(body.members.filter((member) => member.self)).toHaveLength(1)
    for (const member of body.members) {
      expect(member).toMatchObject({ pid: process.pid })
      expect(Date.parse(member.seen_at)).not.toBeNaN()
      expect(member.age_ms).toBeGreaterThanOrEqual(0)
    }
  })

  it('answers members: null without a bus', async () => {
    const admin = createAdminHandler({ cache: makeCache(), insecure: true })
    const body = (await (await admin(request('GET', '/api/cache/members')))!.json()) as {
      members: unknown
    }
    expect(body.members).toBeNull()
  })
})
