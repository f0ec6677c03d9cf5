import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { collectionTag, entityTag } from '../../src/index.js'
import {
  postgresInvalidation,
  type CaptureMode,
  type PostgresInvalidation,
} from '../../src/postgres/index.js'
import { connect, redisCache, Seen, uniqueName } from './helpers.js'

const product = (id: number | string) => entityTag('product', id)
const products = collectionTag('product')

/** What a file of capture tests shares with its cases. */
export interface CaptureFixture {
  readonly url: string
  readonly schema: string
  readonly outbox: string
  readonly db: Awaited<ReturnType<typeof connect>>
}

/**
 * The cases both modes must pass: each change kind, a rollback, transactions committing out of
 * the order they wrote in, a restart, a connection killed mid-stream, a store that fails.
 */
export function captureCases(mode: CaptureMode, fixture: () => CaptureFixture): void {
  describe(`postgresInvalidation, ${mode} mode`, () => {
    const cache = redisCache()
    let db: CaptureFixture['db']
    let url: string
    let schema: string
    let outbox: string
    let listener: PostgresInvalidation
    let seen: Seen
    const name = uniqueName('l')
    const make = () =>
      postgresInvalidation({
        cache,
        connectionString: url,
        tables: {
          [`${schema}.products`]: 'product',
          [`${schema}.order_items`]: { entity: 'orderItem', key: 'sku' },
        },
        name,
        schema: outbox,
        mode,
      })

    beforeAll(async () => {
      ;({ db, url, schema, outbox } = fixture())
      await db.query(`CREATE SCHEMA ${schema}`)
      await db.query(`CREATE TABLE ${schema}.products (id int PRIMARY KEY, name text)`)
      await db.query(`CREATE TABLE ${schema}.order_items (n serial PRIMARY KEY, sku text)`)
      if (mode === 'replication') {
        // A delete must carry the key column: it is not the primary key here.
        await db.query(`ALTER TABLE ${schema}.order_items REPLICA IDENTITY FULL`)
      }
      await db.query(
        `INSERT INTO ${schema}.products SELECT g, 'p' || g FROM generate_series(1, 20) g`,
      )
      listener = make()
      seen = new Seen(listener)
      await listener.start()
    })
    afterAll(async () => {
      await listener.close()
    })

    it('an UPDATE drops the cached entity and the lists of its type', async () => {
      await cache.set('p1', 'old', { tags: [product(1)] })
      await cache.set('list', ['old'], { tags: [products] })
      await db.query(`UPDATE ${schema}.products SET name = 'new' WHERE id = 1`)
      await seen.waitFor([product(1), products])
      expect(await cache.get('p1')).toBeUndefined()
      expect(await cache.get('list')).toBeUndefined()
    })

    it('an INSERT and a DELETE invalidate their keys and the collection', async () => {
      await db.query(`INSERT INTO ${schema}.products VALUES (100, 'new')`)
      await seen.waitFor([product(100)])
      await db.query(`DELETE FROM ${schema}.products WHERE id = 3`)
      await seen.waitFor([product(3)])
    })

    it('a key change invalidates the old and the new key; a mapped key column is used', async () => {
      await db.query(`UPDATE ${schema}.products SET id = 200 WHERE id = 2`)
      await seen.waitFor([product(2), product(200)])
      await db.query(`INSERT INTO ${schema}.order_items (sku) VALUES ('a-1')`)
      await db.query(`UPDATE ${schema}.order_items SET sku = 'a-2' WHERE sku = 'a-1'`)
      await seen.waitFor([
        entityTag('orderItem', 'a-1'),
        entityTag('orderItem', 'a-2'),
        collectionTag('orderItem'),
      ])
    })

    it('a rolled-back transaction invalidates nothing', async () => {
      await db.query('BEGIN')
      await db.query(`UPDATE ${schema}.products SET name = 'x' WHERE id = 4`)
      await db.query(`INSERT INTO ${schema}.products VALUES (300, 'x')`)
      await db.query('ROLLBACK')
      // Batches come in commit order: once a later change is seen, the rollback had its chance.
      await db.query(`UPDATE ${schema}.products SET name = 'marker' WHERE id = 5`)
      await seen.waitFor([product(5)])
      expect(seen.tags.has(product(4))).toBe(false)
      expect(seen.tags.has(product(300))).toBe(false)
    })

    it('a transaction that took an earlier outbox id but committed later is not skipped', async () => {
      const early = await connect(url)
      await early.query('BEGIN')
      await early.query(`UPDATE ${schema}.products SET name = 'early' WHERE id = 6`) // outbox id n
      await db.query(`UPDATE ${schema}.products SET name = 'late' WHERE id = 7`) // outbox id n+1, commits first
      await seen.waitFor([product(7)])
      expect(seen.tags.has(product(6))).toBe(false)
      await early.query('COMMIT')
      await seen.waitFor([product(6)])
    })

    it('... nor when the listener restarts in between', async () => {
      const early = await connect(url)
      await early.query('BEGIN')
      await early.query(`UPDATE ${schema}.products SET name = 'early' WHERE id = 8`)
      await db.query(`UPDATE ${schema}.products SET name = 'late' WHERE id = 9`)
      await seen.waitFor([product(9)])
      await listener.close()
      await early.query('COMMIT')
      await db.query(`UPDATE ${schema}.products SET name = 'while down' WHERE id = 10`)
      listener = make()
      seen.watch(listener)
      await listener.start()
      await seen.waitFor([product(8), product(10)])
    })

    it('the connection killed mid-stream: it reconnects and catches up, nothing lost', async () => {
      const expected: string[] = []
      for (let id = 1000; id < 1100; id++) {
        expected.push(product(id))
        await db.query(`INSERT INTO ${schema}.products VALUES ($1, 'k')`, [id])
        if (id === 1030) {
          await seen.waitFor([product(1000)])
          const { rows } = await db.query<{ killed: boolean }>(
            `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
            WHERE application_name = $1 AND backend_type = $2`,
            [`cachegraph:${name}`, mode === 'triggers' ? 'client backend' : 'walsender'],
          )
          expect(rows.some((row) => row.killed)).toBe(true)
        }
      }
      await seen.waitFor(expected)
      expect(seen.disconnects).toBeGreaterThan(0)
    })

    it('an invalidation that cannot be recorded is tried again, never skipped', async () => {
      let failures = 3
      const flaky = postgresInvalidation({
        cache: {
          invalidate: (tags) =>
            failures-- > 0 ? Promise.reject(new Error('store down')) : cache.invalidate(tags),
        },
        connectionString: url,
        tables: { [`${schema}.products`]: 'product' },
        name: uniqueName('flaky'),
        schema: outbox,
        mode,
      })
      const errors: string[] = []
      flaky.on('error', ({ operation }) => errors.push(operation))
      const flakySeen = new Seen(flaky)
      await flaky.start()
      await db.query(`UPDATE ${schema}.products SET name = 'f' WHERE id = 11`)
      await flakySeen.waitFor([product(11)])
      expect(errors).toEqual(['invalidate', 'invalidate', 'invalidate'])
      await flaky.close()
    })
  })
}
