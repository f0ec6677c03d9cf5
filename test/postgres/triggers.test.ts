import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { entityTag, isCacheError } from '../../src/index.js'
import { postgresInvalidation } from '../../src/postgres/index.js'
import { captureCases, type CaptureFixture } from './cases.js'
import { connect, redisCache, Seen, SHARED_URL, uniqueName } from './helpers.js'

const schema = uniqueName('cgpg')
const outbox = `${schema}_cdc`
const product = (id: number | string) => entityTag('product', id)
let fixture: CaptureFixture

beforeAll(async () => {
  fixture = { url: SHARED_URL, schema, outbox, db: await connect(SHARED_URL) }
})
afterAll(async () => {
  await fixture.db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  await fixture.db.query(`DROP SCHEMA IF EXISTS ${outbox} CASCADE`)
})

captureCases('triggers', () => fixture)

describe('triggers mode: install and outbox', () => {
  const cache = redisCache()
  let db: CaptureFixture['db']
  beforeAll(() => {
    db = fixture.db
  })

  it('installs idempotently: a second listener replaces no trigger', async () => {
    const before = await db.query(
      `SELECT oid FROM pg_trigger WHERE tgrelid = '${schema}.products'::regclass ORDER BY oid`,
    )
    const second = postgresInvalidation({
      cache,
      connectionString: SHARED_URL,
      tables: { [`${schema}.products`]: 'product' },
      name: uniqueName('second'),
      schema: outbox,
    })
    await second.start()
    await second.close()
    const after = await db.query(
      `SELECT oid FROM pg_trigger WHERE tgrelid = '${schema}.products'::regclass ORDER BY oid`,
    )
    expect(after.rows).toEqual(before.rows)
    expect(before.rows).toHaveLength(4)
  })

  it('a role that writes the tables needs no rights on the outbox', async () => {
    const role = uniqueName('writer')
    await db.query(`CREATE ROLE ${role} LOGIN`)
    try {
      await db.query(`GRANT USAGE ON SCHEMA ${schema} TO ${role}`)
      await db.query(`GRANT SELECT, UPDATE ON ${schema}.products TO ${role}`)
      const listener = postgresInvalidation({
        cache,
        connectionString: SHARED_URL,
        tables: { [`${schema}.products`]: 'product' },
        name: uniqueName('rights'),
        schema: outbox,
      })
      const rightsSeen = new Seen(listener)
      await listener.start()
      const writer = await connect(SHARED_URL.replace('postgres@', `${role}@`))
      await writer.query(`UPDATE ${schema}.products SET name = 'w' WHERE id = 17`)
      await writer.end()
      await rightsSeen.waitFor([product(17)])
      await listener.close()
    } finally {
      await db.query(`DROP OWNED BY ${role}`)
      await db.query(`DROP ROLE ${role}`)
    }
  })

  it('the outbox is pruned up to what every listener of it has read', async () => {
    const own = `${outbox}_prune`
    const pruning = postgresInvalidation({
      cache,
      connectionString: SHARED_URL,
      tables: { [`${schema}.products`]: 'product' },
      name: uniqueName('prune'),
      schema: own,
      idleMs: 1, // prune after every batch
    })
    const pruneSeen = new Seen(pruning)
    await pruning.start()
    await db.query(`UPDATE ${schema}.products SET name = 'a' WHERE id = 13`)
    await pruneSeen.waitFor([product(13)])
    const count = async (key: string) =>
      Number(
        (
          await db.query<{ n: string }>(
            `SELECT count(*) AS n FROM ${own}.outbox WHERE $1 = ANY(keys)`,
            [key],
          )
        ).rows[0]?.n,
      )
    // Each batch prunes after it is recorded: what every position has passed goes. Another
    // session's open transaction holds the snapshots' xmin back, so keep changing until then.
    for (let id = 100_000; (await count('13')) > 0; id++) {
      await db.query(`INSERT INTO ${schema}.products VALUES ($1, 'prune')`, [id])
      await pruneSeen.waitFor([product(id)])
    }
    expect(await count('13')).toBe(0)
    await pruning.close()
    await db.query(`DROP SCHEMA ${own} CASCADE`)
  })

  it('rejects bad options naming them, and an unknown table at start', async () => {
    const bad = (options: object) => {
      try {
        postgresInvalidation({
          cache,
          connectionString: SHARED_URL,
          tables: { t: 'x' },
          ...options,
        })
      } catch (error) {
        return isCacheError(error, 'E_INVALID_OPTION') ? error.message : 'other'
      }
      return 'accepted'
    }
    expect(bad({ mode: 'wal' })).toContain('`mode`')
    expect(bad({ tables: {} })).toContain('`tables`')
    expect(bad({ name: 'Bad-Name' })).toContain('`name`')
    expect(bad({ tables: { t: { entity: '' } } })).toContain('`tables.t`')
    const unknown = postgresInvalidation({
      cache,
      connectionString: SHARED_URL,
      tables: { [`${schema}.nope`]: 'x' },
      schema: outbox,
    })
    await expect(unknown.start()).rejects.toMatchObject({ code: 'E_INVALID_OPTION' })
    await unknown.close()
  })
})
