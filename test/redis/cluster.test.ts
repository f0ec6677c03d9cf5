import { describe, expect, it } from 'vitest'

import { createCache, type Store } from '../../src/index.js'
import { redisBus } from '../../src/redis/bus.js'
import { RedisClusterStore } from '../../src/redis/cluster.js'
import { redisStore } from '../../src/redis/store.js'
import { storeConformance } from '../../src/testing/index.js'
import { deferred, until } from '../helpers/deferred.js'
import { clusterForTests } from '../helpers/redis-cluster.js'
import { uniquePrefix } from '../helpers/tiers.js'

const cluster = clusterForTests()

/** Deletes everything under one prefix on every master, as a FLUSHALL of the cluster would. */
async function losePrefix(store: Store): Promise<void> {
  const { prefix } = store as RedisClusterStore
  for (const node of cluster.client.nodes('master')) {
    for (const pattern of [`{${prefix}}:*`, `${prefix}:e:*`]) {
      let cursor = '0'
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500)
        for (const key of keys) await cluster.client.del(key)
        cursor = next
      } while (cursor !== '0')
    }
  }
}

/** Deletes the cluster store's tag records alone (they share the `{P}` slot). */
async function loseClusterRecords(store: Store): Promise<void> {
  const { prefix } = store as RedisClusterStore
  await cluster.client.del(`{${prefix}}:h`, `{${prefix}}:s`)
}

/** Copies the cluster store's tag records; the function returned puts the copy back. */
async function copyClusterRecords(store: Store): Promise<() => Promise<void>> {
  const { prefix } = store as RedisClusterStore
  const names = [`{${prefix}}:h`, `{${prefix}}:s`]
  const copies = await Promise.all(names.map((name) => cluster.client.dumpBuffer(name)))
  return async () => {
    for (const [i, name] of names.entries()) {
      const copy = copies[i]
      if (copy === null || copy === undefined) await cluster.client.del(name)
      else await cluster.client.restore(name, 0, copy, 'REPLACE')
    }
  }
}

storeConformance(
  'redis cluster',
  { describe, it, expect },
  {
    create: () => redisStore({ client: cluster.client, prefix: uniquePrefix() }),
    loseState: losePrefix,
    loseRecords: loseClusterRecords,
    copyRecords: copyClusterRecords,
  },
)

describe('caches on Redis Cluster', () => {
  it('a bus carries invalidations between caches; trusted reads skip the second round trip', async () => {
    const prefix = uniquePrefix()
    const member = async (l1?: false) => {
      const cache = createCache({
        store: redisStore({ client: cluster.client, prefix }),
        bus: redisBus({ maxSilence: '10s' }),
        ...(l1 === false ? { l1 } : {}),
      })
      await new Promise((resolve) => cache.on('bus:trusted', resolve))
      return cache
    }
    const [a, b, reader] = [await member(), await member(), await member(false)]
    try {
      let loads = 0
      expect(await b.getOrSet('k', () => ++loads, { tags: ['t'] })).toBe(1)
      expect(await reader.get('k')).toBe(1)
      const applied = new Promise((resolve) => b.on('bus:invalidate', resolve))
      const { seq } = await a.invalidate('t')
      // Every bus message names the process that sent it: a's member id.
      const origin = (await a.members()).find((member) => member.self)?.id
      expect(origin).toMatch(/^cachegraph-bus-/)
      expect(await applied).toEqual({ tags: ['t'], seq, stale: false, origin })
      expect(await b.getOrSet('k', () => ++loads, { tags: ['t'] })).toBe(2)
      expect(await reader.get('k')).toBe(2)
      // Acknowledged: the request goes out with the step, in the {P} slot's script run.
      const { fleet } = await a.invalidate('t', { ack: true })
      expect(fleet).toMatchObject({ members: 2, acked: 2, late: [], membersKnown: true })
      expect(await b.getOrSet('k', () => ++loads, { tags: ['t'] })).toBe(3)
      expect(reader.stats().bus).toMatchObject({ trusted: true, gaps: 0 })
    } finally {
      await Promise.all([a.close(), b.close(), reader.close()])
    }
  })

  it('a first set (or a delete) of a key nobody stored is quiet; once stored, its next set is heard', async () => {
    const prefix = uniquePrefix()
    const member = async () => {
      const cache = createCache({
        store: redisStore({ client: cluster.client, prefix }),
        bus: redisBus({ maxSilence: '10s' }),
      })
      await new Promise((resolve) => cache.on('bus:trusted', resolve))
      return cache
    }
    const [a, b] = [await member(), await member()]
    const heard: string[] = []
    b.on('bus:invalidate', ({ tags }) => heard.push(...tags))
    try {
      // No step of a state is quiet before one was published.
      const { seq } = await a.invalidate('start')
      await until(() => b.stats().bus?.seq === seq)
      expect(await a.set('k', 'v1')).toBe(true)
      // Recorded and logged, not published; the key tag is marked in the {P} slot.
      const log = (await cluster.client.xrevrange(`{${prefix}}:log`, '+', '-', 'COUNT', 1)) as [
        string,
        string[],
      ][]
      const kinds = log[0]?.[1][1]?.split('\n')[2]
      expect(kinds).toBe('-')
      expect(await cluster.client.hexists(`{${prefix}}:k`, '@key:cg::k')).toBe(1)
      expect(await b.get('k')).toBe('v1')
      const applied = new Promise((resolve) => b.on('bus:invalidate', resolve))
      expect(await a.set('k', 'v2')).toBe(true)
      await applied
      expect(heard).toEqual(['start', '@key:cg::k'])
      expect(await b.get('k')).toBe('v2')
      // A delete of a key nobody stored is quiet too; one of a stored key is heard.
      await a.delete('never-stored')
      const deleted = new Promise((resolve) => b.on('bus:invalidate', resolve))
      await a.delete('k')
      await deleted
      expect(heard).toEqual(['start', '@key:cg::k', '@key:cg::k'])
      expect(await b.get('k')).toBeUndefined()
      expect(b.stats().bus).toMatchObject({ trusted: true, gaps: 0 })
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })

  it('a cluster client gives the cluster store, and entries spread over the masters', async () => {
    const prefix = uniquePrefix()
    const store = redisStore({ client: cluster.client, prefix })
    expect(store).toBeInstanceOf(RedisClusterStore)
    const cache = createCache({ store, l1: false })
    await cache.setMany(
      Array.from({ length: 60 }, (_, i) => ({ key: `k${i}`, value: i, tags: ['all'] })),
    )
    const perNode = await Promise.all(
      cluster.client.nodes('master').map(async (node) => {
        let count = 0
        let cursor = '0'
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:e:*`, 'COUNT', 500)
          count += keys.length
          cursor = next
        } while (cursor !== '0')
        return count
      }),
    )
    expect(perNode.filter((n) => n > 0).length).toBeGreaterThan(1)
    expect(await cache.getMany(['k0', 'k59'])).toEqual([0, 59])
    await cache.invalidate('all')
    expect(await cache.getMany(['k0', 'k59'])).toEqual([undefined, undefined])
  })

  it('a load invalidated meanwhile by another process is never served', async () => {
    const prefix = uniquePrefix()
    const a = createCache({ store: redisStore({ client: cluster.client, prefix }) })
    const b = createCache({ store: redisStore({ client: cluster.client, prefix }), l1: false })
    const gate = deferred<string>()
    let started = false
    const load = a.getOrSet('k', () => ((started = true), gate.promise), { tags: ['t'] })
    await until(() => started)
    await b.invalidate('t')
    gate.resolve('old')
    expect(await load).toBe('old')
    expect(await b.get('k')).toBeUndefined()
  })

  it('rich values, tags of nested calls and superseding sets work the same', async () => {
    const prefix = uniquePrefix()
    const cache = createCache({ store: redisStore({ client: cluster.client, prefix }), l1: false })
    const value = { when: new Date(5), ids: new Set([1, 2]), big: 10n }
    await cache.getOrSet('outer', async () => ({
      inner: await cache.getOrSet('inner', () => value, { tags: ['x'] }),
    }))
    expect(await cache.get('outer')).toStrictEqual({ inner: value })
    await cache.invalidate('x')
    expect(await cache.get('outer')).toBeUndefined()
    expect(await cache.set('s', 1)).toBe(true)
    expect(await cache.get('s')).toBe(1)
  })

  it('records older than keepRecords are deleted in the {P} slot, the floor raised above them', async () => {
    const prefix = uniquePrefix()
    const store = redisStore({
      client: cluster.client,
      prefix,
      keepRecords: '1s',
    }) as RedisClusterStore
    const cache = createCache({ store, l1: false, maxLifetime: '900ms' })
    for (let i = 0; i < 50; i++) expect(await cache.set(`k${i}`, i)).toBe(true)
    const written = Number(await cluster.client.get(`{${prefix}}:seq`))
    const deadline = Date.now() + 10_000
    let floor = 0
    while (floor < written && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200))
      ;({ floor } = await store.trimRecords())
    }
    expect(floor).toBeGreaterThanOrEqual(written)
    expect(await cluster.client.hlen(`{${prefix}}:h`)).toBe(1) // the marker alone
    expect(await cache.set('after', 1)).toBe(true)
    expect(await cache.get('after')).toBe(1)
    await cache.close()
  })
})
