import { randomUUID } from 'node:crypto'

import { Redis } from 'ioredis'
import { afterAll, inject } from 'vitest'

import { type CacheOptions, memoryStore, type Store } from '../../src/index.js'
import { redisStore } from '../../src/stores/redis.js'

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

/** A fresh key prefix: every cache of a test gets its own sequence and tag space. */
export const uniquePrefix = (): string => `cgtest:${randomUUID()}`

let pending = 0
/** Counts the store calls in flight, for {@link quiesce}. */
function tracked<S extends Store>(store: S): S {
  for (const method of ['read', 'write', 'invalidate'] as const) {
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

/** Tier set-ups that engine behaviour must hold on, real Redis included. */
export const WITH_AND_WITHOUT_STORE: [name: string, tiers: () => CacheOptions][] = [
  ['L1 only', () => ({})],
  ['L1 + memory store', () => ({ store: tracked(memoryStore()) })],
  ['L1 + Redis', redisTier],
]

/** The above, plus shared stores without L1. */
export const ALL_TIERS: [name: string, tiers: () => CacheOptions][] = [
  ...WITH_AND_WITHOUT_STORE,
  ['memory store without L1', () => ({ store: tracked(memoryStore()), l1: false })],
  ['Redis without L1', () => ({ ...redisTier(), l1: false })],
]
