import { randomBytes } from 'node:crypto'

import pg from 'pg'
import { afterAll } from 'vitest'

import { createCache, type Cache } from '../../src/index.js'
import type { PostgresInvalidation } from '../../src/postgres/index.js'
import { redisStore } from '../../src/redis/store.js'
import { redisClient, uniquePrefix } from '../helpers/tiers.js'

/** The machine's PostgreSQL (triggers mode needs nothing more than `wal_level=replica`). */
export const SHARED_URL = process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/** A fresh lowercase name: every test file gets its own schemas, tables and listener names. */
export const uniqueName = (prefix: string): string => `${prefix}_${randomBytes(5).toString('hex')}`

/** A cache over the run's Redis, with its own prefix; closed after the file. */
export function redisCache(): Cache {
  const cache = createCache({
    store: redisStore({ client: redisClient(), prefix: uniquePrefix() }),
  })
  afterAll(() => cache.close())
  return cache
}

/** A connected client, ended after the file. */
export async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url })
  client.on('error', () => {}) // a test may terminate it on purpose
  await client.connect()
  afterAll(() => client.end().catch(() => {}))
  return client
}

/**
 * Every tag a listener has recorded, and a way to wait until given tags are among them. The
 * deadline only turns a hang into a failure that names what is missing: success never waits
 * for time.
 */
export class Seen {
  readonly tags = new Set<string>()
  readonly #waiters = new Set<() => void>()
  readonly lags: number[] = []
  disconnects = 0

  constructor(listener: PostgresInvalidation) {
    this.watch(listener)
  }

  watch(listener: PostgresInvalidation): void {
    listener.on('invalidate', ({ tags, lagMs }) => {
      for (const tag of tags) this.tags.add(tag)
      this.lags.push(lagMs)
      for (const wake of this.#waiters) wake()
    })
    listener.on('disconnect', () => this.disconnects++)
  }

  async waitFor(tags: readonly string[], deadlineMs = 60_000): Promise<void> {
    const missing = () => tags.filter((tag) => !this.tags.has(tag))
    if (missing().length === 0) return
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(check)
        reject(new Error(`not invalidated: ${missing().slice(0, 10).join(', ')}`))
      }, deadlineMs)
      const check = () => {
        if (missing().length > 0) return
        clearTimeout(timer)
        this.#waiters.delete(check)
        resolve()
      }
      this.#waiters.add(check)
    })
  }
}
