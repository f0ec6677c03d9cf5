import { randomUUID } from 'node:crypto'

import { Redis } from 'ioredis'
import { afterAll, inject } from 'vitest'

import { type Cache, type CacheOptions, memoryStore, type Store } from '../../src/index.js'
import type { RedisBus } from '../../src/redis/bus.js'
import { slotKeys } from '../../src/redis/keys.js'
import { redisBus } from '../../src/redis/bus.js'
import { type RedisStore, redisStore } from '../../src/redis/store.js'
import { unlinkPrefix } from './unlink-prefix.js'

let client: Redis | undefined
/** One connection per test file, to the run's Redis (see test/global-setup.ts). */
export function redisClient(): Redis {
  client ??= new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 })
  return client
}
afterAll(async () => {
  await client?.quit()
  client = undefined
})

/**
 * A fresh key prefix: every cache of a test gets its own sequence and tag space. It starts with
 * the run's id, so the run deletes its own keys when it ends (`global-setup.ts`).
 */
export const uniquePrefix = (): string => `cgtest:${inject('testRun')}:${randomUUID()}`

let pending = 0
/** Counts the store calls in flight, for {@link quiesce}. */
function tracked<S extends Store>(store: S): S {
  for (const method of ['read', 'write', 'invalidate', 'readUnchecked', 'readProven'] as const) {
    if (store[method] === undefined) continue
    const call = store[method].bind(store) as (...args: unknown[]) => Promise<unknown>
    const wrapped = (...args: unknown[]) => {
      pending++
      return call(...args).finally(() => pending--)
    }
    Object.assign(store, { [method]: wrapped })
  }
  return store
}

/**
 * Lets every started operation reach its loader: waits until no store call is in flight (a real
 * Redis answers after I/O, not within one turn of the event loop), then one more turn.
 */
export async function quiesce(): Promise<void> {
  do await new Promise((resolve) => setImmediate(resolve))
  while (pending > 0)
}

const redisTier = (): CacheOptions => ({
  store: tracked(redisStore({ client: redisClient(), prefix: uniquePrefix() })),
})

/**
 * Redis with a bus: shared-tier reads are judged in the process (unchecked `MGET`s) once the bus
 * vouches for it. The subscriber connections close with the caches or the test file.
 */
const busTier = (): CacheOptions => {
  const bus = redisBus({ maxSilence: '10s' })
  buses.push(bus)
  return { ...redisTier(), bus }
}
const buses: RedisBus[] = []
afterAll(() => buses.splice(0).forEach((bus) => bus.disconnect()))

/** Tier set-ups that engine behaviour must hold on, real Redis included. */
export const WITH_AND_WITHOUT_STORE: [name: string, tiers: () => CacheOptions][] = [
  ['L1 only', () => ({})],
  ['L1 + memory store', () => ({ store: tracked(memoryStore()) })],
  ['L1 + Redis', redisTier],
  ['L1 + Redis + bus', busTier],
]

/** The above, plus shared stores without L1. */
export const ALL_TIERS: [name: string, tiers: () => CacheOptions][] = [
  ...WITH_AND_WITHOUT_STORE,
  ['memory store without L1', () => ({ store: tracked(memoryStore()), l1: false })],
  ['Redis without L1', () => ({ ...redisTier(), l1: false })],
  ['Redis + bus without L1', () => ({ ...busTier(), l1: false })],
]

/** Resolves with `cache` once its bus (if it has one) vouches for it. */
export async function trusted(cache: Cache): Promise<Cache> {
  if (cache.stats().bus?.trusted === false) {
    await new Promise<void>((resolve) => {
      const listener = () => {
        cache.off('bus:trusted', listener)
        resolve()
      }
      cache.on('bus:trusted', listener)
    })
  }
  return cache
}

/**
 * Deletes everything of a Redis store's prefix, as a FLUSHDB would (the shared server itself is
 * never flushed). A wrapped store (`faultyStore`) is reached through `inner`.
 */
export async function losePrefix(store: Store): Promise<void> {
  let redis = store as Store & { inner?: Store }
  while (redis.inner !== undefined) redis = redis.inner
  const { client, prefix } = redis as unknown as RedisStore
  await unlinkPrefix(client, prefix)
}

/** The Redis store under any wrappers (`faultyStore` exposes `inner`). */
function innermost(store: Store): RedisStore {
  let redis = store as Store & { inner?: Store }
  while (redis.inner !== undefined) redis = redis.inner
  return redis as unknown as RedisStore
}

/** The keys of a Redis store's tag records (hard and soft); see src/redis/keys.ts. */
export const recordKeys = (prefix: string): string[] => {
  const keys = slotKeys(prefix)
  return [keys.hard, keys.soft]
}

/** Deletes a Redis store's tag records alone, as an eviction of them would. */
export async function loseRecords(store: Store): Promise<void> {
  const { client, prefix } = innermost(store)
  await client.del(...recordKeys(prefix))
}

/** Copies a Redis store's tag records; the function returned puts the copy back. */
export async function copyRecords(store: Store): Promise<() => Promise<void>> {
  const { client, prefix } = innermost(store)
  const copies = await Promise.all(recordKeys(prefix).map((name) => client.dumpBuffer(name)))
  return async () => {
    for (const [i, name] of recordKeys(prefix).entries()) {
      const copy = copies[i]
      if (copy === null || copy === undefined) await client.del(name)
      else await client.restore(name, 0, copy, 'REPLACE')
    }
  }
}

/**
 * Puts a Redis store's state back to an earlier, consistent sequence (a replica that lagged, a
 * restored snapshot): the sequence and the records' markers (see src/redis/scripts.ts) move
 * together.
 */
export async function rewindState(prefix: string, seq: number): Promise<void> {
  const older = String(seq)
  const keys = slotKeys(prefix)
  await redisClient()
    .multi()
    .set(keys.seq, older)
    .hset(keys.hard, '', older)
    .hset(keys.soft, '', older)
    .exec()
}
