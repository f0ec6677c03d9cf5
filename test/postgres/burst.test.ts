import { performance } from 'node:perf_hooks'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { collectionTag, entityTag } from '../../src/index.js'
import { postgresInvalidation, type CaptureMode } from '../../src/postgres/index.js'
import { connect, redisCache, Seen, SHARED_URL, uniqueName } from './helpers.js'
import { startPrivatePostgres, type PrivatePostgres } from './private-server.js'

const ROWS = 100_000
const product = (id: number) => entityTag('product', id)

/** Percentile of sorted numbers. */
const pct = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] as number

/**
 * Lag (commit → invalidation recorded in Redis) of single-row transactions, one at a time, and
 * the throughput of a burst of 100k row changes, in each mode. The numbers are printed for
 * docs/postgres.md; the assertions are only that nothing is lost (timing depends on the
 * machine).
 */
for (const mode of ['triggers', 'replication'] as CaptureMode[]) {
  describe(`${mode}: lag and a burst of ${ROWS} row changes`, () => {
    const cache = redisCache()
    const schema = uniqueName('cgburst')
    let server: PrivatePostgres | undefined
    let url: string
    let db: Awaited<ReturnType<typeof connect>>
    let seen: Seen
    let close: () => Promise<void>

    beforeAll(async () => {
      if (mode === 'replication') server = await startPrivatePostgres()
      url = server?.url ?? SHARED_URL
      db = await connect(url)
      await db.query(`CREATE SCHEMA ${schema}`)
      await db.query(`CREATE TABLE ${schema}.products (id int PRIMARY KEY, name text)`)
      await db.query(
        `INSERT INTO ${schema}.products SELECT g, 'p' FROM generate_series(1, ${ROWS}) g`,
      )
      const listener = postgresInvalidation({
        cache,
        connectionString: url,
        tables: { [`${schema}.products`]: 'product' },
        name: uniqueName('burst'),
        schema: `${schema}_cdc`,
        mode,
      })
      seen = new Seen(listener)
      await listener.start()
      close = () => listener.close()
    }, 120_000)
    afterAll(async () => {
      await close?.()
      await db?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      await db?.query(`DROP SCHEMA IF EXISTS ${schema}_cdc CASCADE`)
      await db?.end().catch(() => {})
      await server?.stop()
    })

    it('lag of single-row commits, one at a time', async () => {
      const lags: number[] = []
      for (let i = 1; i <= 300; i++) {
        await db.query(`UPDATE ${schema}.products SET name = 'l' WHERE id = $1`, [i])
        const committed = performance.now()
        await seen.waitFor([product(i)])
        lags.push(performance.now() - committed)
      }
      lags.sort((a, b) => a - b)
      console.log(
        `[${mode}] lag commit→recorded over ${lags.length} commits: p50 ${pct(lags, 50).toFixed(1)} ms, p99 ${pct(lags, 99).toFixed(1)} ms, max ${pct(lags, 100).toFixed(1)} ms`,
      )
      expect(lags).toHaveLength(300)
    })

    it(`one statement changing ${ROWS} rows`, async () => {
      seen.tags.clear()
      const started = performance.now()
      await db.query(`UPDATE ${schema}.products SET name = 'burst'`)
      const committed = performance.now()
      await seen.waitFor([product(1), product(ROWS), collectionTag('product')], 300_000)
      const expected = Array.from({ length: ROWS }, (_, i) => product(i + 1))
      await seen.waitFor(expected, 300_000)
      const done = performance.now()
      console.log(
        `[${mode}] one UPDATE of ${ROWS} rows: statement ${(committed - started).toFixed(0)} ms, commit→all recorded ${(done - committed).toFixed(0)} ms (${Math.round(ROWS / ((done - committed) / 1000))} rows/s)`,
      )
    }, 600_000)

    it(`${ROWS} rows in 2,000 transactions of 50 from 4 connections`, async () => {
      seen.tags.clear()
      const writers = await Promise.all([1, 2, 3, 4].map(() => connect(url)))
      const started = performance.now()
      let next = 0
      await Promise.all(
        writers.map(async (writer) => {
          for (let batch = next++; batch < 2_000; batch = next++) {
            const from = batch * 50 + 1
            await writer.query(
              `UPDATE ${schema}.products SET name = 'tx' WHERE id BETWEEN $1 AND $2`,
              [from, from + 49],
            )
          }
        }),
      )
      const committed = performance.now()
      const expected = Array.from({ length: ROWS }, (_, i) => product(i + 1))
      await seen.waitFor(expected, 300_000)
      const done = performance.now()
      await Promise.all(writers.map((writer) => writer.end()))
      console.log(
        `[${mode}] ${ROWS} rows in 2000 transactions: writes took ${(committed - started).toFixed(0)} ms, last commit→all recorded ${(done - committed).toFixed(0)} ms, first commit→all recorded ${(done - started).toFixed(0)} ms (${Math.round(ROWS / ((done - started) / 1000))} rows/s)`,
      )
    }, 600_000)
  })
}
