import { afterEach, describe, expect, inject, it, vi } from 'vitest'

import type { Store } from '../../src/index.js'
import { MemoryStore } from '../../src/stores/memory.js'
import { redisStore, type RedisStore } from '../../src/redis/store.js'
import {
  faultyStore,
  type FaultyStore,
  type FaultyStoreOptions,
  InjectedFaultError,
  storeConformance,
} from '../../src/testing/index.js'
import { settle, until } from '../helpers/deferred.js'
import {
  copyRecords,
  losePrefix,
  loseRecords,
  redisClient,
  uniquePrefix,
} from '../helpers/tiers.js'

const redis = () => redisStore({ client: redisClient(), prefix: uniquePrefix() }) as RedisStore

storeConformance(
  'faulty(redis) without faults',
  { describe, it, expect },
  { create: () => faultyStore(redis()), loseState: losePrefix, loseRecords, copyRecords },
)

const entry = (key: string, tags: string[], start?: number) => ({
  key,
  payload: `payload of ${key}`,
  tags,
  ttlMs: 60_000,
  ...(start === undefined ? {} : { start }),
})

const opened: FaultyStore<RedisStore>[] = []
/** A faulty Redis store, closed (hung calls rejected) after the test. */
function faulty(options?: FaultyStoreOptions): FaultyStore<RedisStore> {
  const store = faultyStore(redis(), options)
  opened.push(store)
  return store
}
afterEach(async () => {
  vi.useRealTimers()
  await Promise.all(opened.splice(0).map((store) => store.close()))
})

/** Whether a promise has settled, without waiting for it. */
function track(promise: Promise<unknown>): { settled: boolean } {
  const state = { settled: false }
  promise.then(
    () => (state.settled = true),
    () => (state.settled = true),
  )
  return state
}

describe('faulty store: shape', () => {
  it('is named after the inner store, exposes it and forwards close', async () => {
    const inner = redisStore({ url: inject('redisUrl'), prefix: uniquePrefix() }) as RedisStore
    const store = faultyStore(inner)
    expect(store.name).toBe('faulty(redis)')
    expect(store.inner).toBe(inner)
    await store.read([])
    expect(inner.client.status).toBe('ready')
    await store.close()
    await until(() => inner.client.status === 'end') // quit() answers before the socket closes
  })

  it('has readUnchecked and scan only when the inner store has them', async () => {
    const overRedis = faulty()
    expect(typeof overRedis.readUnchecked).toBe('function')
    expect(typeof overRedis.scan).toBe('function')
    const overMemory = faultyStore(new MemoryStore())
    expect(overMemory.readUnchecked).toBeUndefined()
    expect('readUnchecked' in overMemory).toBe(false)
    expect(typeof overMemory.scan).toBe('function')
    const full = redis()
    const bare: Store = {
      name: 'bare',
      read: (keys) => full.read(keys),
      write: (entries, options) => full.write(entries, options),
      invalidate: (tags, options) => full.invalidate(tags, options),
      close: () => full.close(),
    }
    expect('scan' in faultyStore(bare)).toBe(false)
    await overMemory.close()
  })

  it('rejects faults that cannot work', () => {
    const { faults } = faulty()
    expect(() => faults.set({})).toThrow(/latencyMs, error, hang or drop/)
    expect(() => faults.set({ error: true, probability: 1.5 })).toThrow(/probability/)
    expect(() => faults.set({ latencyMs: -1 })).toThrow(/latencyMs/)
    expect(() => faults.set({ error: true, times: 0 })).toThrow(/times/)
    expect(() => faults.set({ error: true, operations: ['get' as 'read'] })).toThrow(/get/)
  })
})

describe('faulty store: errors', () => {
  it('rejects without reaching Redis, only for the chosen operations, until cleared', async () => {
    const store = faulty()
    store.faults.set({ operations: ['write'], error: true })
    const rejection = store.write([entry('k', ['t'])])
    await expect(rejection).rejects.toThrow(InjectedFaultError)
    await expect(rejection).rejects.toMatchObject({ operation: 'write', kind: 'error' })
    expect((await store.read(['k'])).entries[0]).toBeUndefined()
    expect((await store.inner.read(['k'])).entries[0]).toBeUndefined()
    store.faults.clear()
    expect((await store.write([entry('k', ['t'])])).written).toEqual([true])
    expect(store.faults.counts().write).toEqual({ calls: 2, faults: 1 })
    expect(store.faults.counts().read).toEqual({ calls: 1, faults: 0 })
  })

  it('rejects with the given error, on the optional operations too', async () => {
    const store = faulty()
    const down = new Error('ECONNREFUSED')
    store.faults.set({ operations: ['readUnchecked', 'scan'], error: down })
    await expect(store.readUnchecked?.(['k'])).rejects.toBe(down)
    await expect(store.scan?.({ match: '*' })).rejects.toBe(down)
    expect((await store.read([])).epoch).toEqual(expect.any(String))
  })

  it('faults every operation by default, and only `times` calls when given', async () => {
    const store = faulty({ faults: [{ error: true, times: 2 }] })
    await expect(store.invalidate(['t'])).rejects.toThrow(/injected fault/)
    await expect(store.read([])).rejects.toThrow(/injected fault/)
    expect((await store.invalidate(['t'])).seq).toBeGreaterThan(0)
    expect((await store.read([])).seq).toBeGreaterThan(0)
  })
})

describe('faulty store: drops', () => {
  it('a dropped invalidation is recorded in Redis though the caller sees an error', async () => {
    const store = faulty()
    const { seq: before } = await store.read([])
    store.faults.set({ operations: ['invalidate'], drop: true })
    await expect(store.invalidate(['tag'])).rejects.toMatchObject({ kind: 'drop' })
    const plain = await store.inner.read([])
    expect(plain.seq).toBe(before + 1)
    // The tag record is there: a value built before the invalidation is refused.
    const late = await store.inner.write([entry('k', ['tag'], before)])
    expect(late.written).toEqual([false])
  })

  it('a dropped write is stored', async () => {
    const store = faulty({
      faults: [{ operations: ['write'], drop: true, error: new Error('lost') }],
    })
    await expect(store.write([entry('k', ['t'])])).rejects.toThrow('lost')
    expect((await store.inner.read(['k'])).entries[0]?.payload).toBe('payload of k')
  })
})

describe('faulty store: hangs', () => {
  it('a hung call settles only when healed, then rejects; later calls go through', async () => {
    const store = faulty()
    store.faults.set({ operations: ['read'], hang: true })
    const hung = store.read(['k'])
    const state = track(hung)
    await store.write([entry('k', ['t'])]) // a real round trip while the read hangs
    await settle()
    expect(state.settled).toBe(false)
    expect(store.faults.hanging).toBe(1)
    store.faults.heal()
    await expect(hung).rejects.toMatchObject({ operation: 'read', kind: 'hang' })
    expect(store.faults.hanging).toBe(0)
    expect((await store.read(['k'])).entries[0]?.payload).toBe('payload of k')
  })

  it('clear() stops new hangs but leaves hung calls hanging', async () => {
    const store = faulty({ faults: [{ operations: ['write'], hang: true }] })
    const hung = store.write([entry('k', ['t'])])
    store.faults.clear()
    expect((await store.write([entry('j', ['t'])])).written).toEqual([true])
    expect(store.faults.hanging).toBe(1)
    store.faults.heal()
    await expect(hung).rejects.toThrow(/injected fault/)
  })

  it('closing the store rejects hung calls, and hangs after close reject at once', async () => {
    const store = faultyStore(redis(), { faults: [{ operations: ['invalidate'], hang: true }] })
    const hung = store.invalidate(['t'])
    await store.close()
    await expect(hung).rejects.toThrow(/injected fault/)
    await expect(store.invalidate(['t'])).rejects.toThrow(/injected fault/)
  })

  it('hang + drop: the write reaches Redis, its caller waits until healed', async () => {
    const store = faulty({ faults: [{ operations: ['write'], hang: true, drop: true }] })
    const hung = store.write([entry('k', ['t'])])
    const state = track(hung)
    await until(async () => (await store.inner.read(['k'])).entries[0] !== undefined)
    expect(state.settled).toBe(false)
    store.faults.heal()
    await expect(hung).rejects.toThrow(/injected fault/)
  })
})

describe('faulty store: latency', () => {
  it('delays a call by the given ms before it reaches Redis', async () => {
    const store = faulty()
    await store.read([]) // connected before time is faked
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    store.faults.set({ operations: ['write'], latencyMs: 250 })
    const write = store.write([entry('k', ['t'])])
    const state = track(write)
    await vi.advanceTimersByTimeAsync(249)
    expect(state.settled).toBe(false)
    expect((await store.inner.read(['k'])).entries[0]).toBeUndefined()
    await vi.advanceTimersByTimeAsync(1)
    expect((await write).written).toEqual([true])
  })

  it('takes the latency as a function of the operation', async () => {
    const store = faulty()
    await store.read([])
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    store.faults.set({ latencyMs: (operation) => (operation === 'invalidate' ? 100 : 0) })
    const { seq } = await store.read([])
    const invalidation = store.invalidate(['t'])
    const state = track(invalidation)
    expect((await store.read([])).seq).toBe(seq) // not delayed: no timer was advanced
    expect(state.settled).toBe(false)
    await vi.advanceTimersByTimeAsync(100)
    expect((await invalidation).seq).toBe(seq + 1)
  })

  it('closing the store rejects calls still waiting out their latency', async () => {
    const store = faultyStore(redis(), { faults: [{ latencyMs: 60_000 }] })
    const slow = store.read([])
    await store.close()
    await expect(slow).rejects.toMatchObject({ kind: 'closed' })
  })
})

describe('faulty store: probability', () => {
  /** Which of `n` sequential reads failed, as a string of 0/1. */
  async function pattern(store: FaultyStore, n: number): Promise<string> {
    let result = ''
    for (let i = 0; i < n; i++) {
      result += await store.read([]).then(
        () => '0',
        () => '1',
      )
    }
    return result
  }

  it('the same seed faults the same calls', async () => {
    const fault = { operations: ['read'] as const, error: true as const, probability: 0.3 }
    const a = faulty({ seed: 7, faults: [fault] })
    const b = faulty({ seed: 7, faults: [fault] })
    const c = faulty({ seed: 8, faults: [fault] })
    const [pa, pb, pc] = [await pattern(a, 40), await pattern(b, 40), await pattern(c, 40)]
    expect(pa).toBe(pb)
    expect(pa).not.toBe(pc)
    expect(pa).toMatch(/0/)
    expect(pa).toMatch(/1/)
    expect(a.faults.counts().read).toEqual({ calls: 40, faults: pa.split('1').length - 1 })
  })

  it('probability 0 never faults', async () => {
    const store = faulty({ faults: [{ operations: ['read'], error: true, probability: 0 }] })
    expect(await pattern(store, 10)).toBe('0000000000')
    expect(store.faults.counts().read).toEqual({ calls: 10, faults: 0 })
  })

  it('latency jitter drawn from the seeded source repeats with the seed', async () => {
    const jitter = async (seed: number) => {
      const drawn: number[] = []
      const store = faulty({ seed })
      store.faults.set({
        operations: ['read'],
        latencyMs: (_, random) => (drawn.push(random()), 0),
      })
      await pattern(store, 5)
      return drawn
    }
    const first = await jitter(11)
    expect(first.length).toBe(5)
    expect(new Set(first).size).toBe(5)
    expect(await jitter(11)).toEqual(first)
    expect(await jitter(12)).not.toEqual(first)
  })
})
