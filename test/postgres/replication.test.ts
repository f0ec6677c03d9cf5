import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { entityTag } from '../../src/index.js'
import { postgresInvalidation } from '../../src/postgres/index.js'
import { deferred, until } from '../helpers/deferred.js'
import { captureCases, type CaptureFixture } from './cases.js'
import { connect, redisCache, Seen, uniqueName } from './helpers.js'
import { startPrivatePostgres, type PrivatePostgres } from './private-server.js'

let server: PrivatePostgres
let fixture: CaptureFixture

beforeAll(async () => {
  server = await startPrivatePostgres()
  const schema = uniqueName('cgpg')
  fixture = { url: server.url, schema, outbox: `${schema}_cdc`, db: await connect(server.url) }
}, 120_000)
afterAll(async () => {
  await fixture?.db.end().catch(() => {})
  await server?.stop()
})

captureCases('replication', () => fixture)

describe('replication mode: setup', () => {
  const cache = redisCache()

  it('refuses a key column a DELETE would not carry, saying how to fix it', async () => {
    const { db, schema } = fixture
    await db.query(`CREATE TABLE ${schema}.tags (n serial PRIMARY KEY, label text)`)
    const listener = postgresInvalidation({
      cache,
      connectionString: fixture.url,
      tables: { [`${schema}.tags`]: { entity: 'tag', key: 'label' } },
      name: uniqueName('identity'),
      mode: 'replication',
    })
    await expect(listener.start()).rejects.toThrow(/REPLICA IDENTITY FULL/)
    await listener.close()
  })

  it('reports a position to the server only once the invalidation is recorded', async () => {
    const { db, schema } = fixture
    const name = uniqueName('ack')
    const gate = deferred<void>()
    let calls = 0
    const listener = postgresInvalidation({
      cache: {
        invalidate: async (tags) => {
          calls++
          await gate.promise
          return cache.invalidate(tags)
        },
      },
      connectionString: fixture.url,
      tables: { [`${schema}.products`]: 'product' },
      name,
      mode: 'replication',
    })
    const seen = new Seen(listener)
    await listener.start()
    const confirmed = async () =>
      (
        await db.query<{ lsn: string }>(
          `SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1`,
          [`cachegraph_${name}`],
        )
      ).rows[0]?.lsn as string
    const before = await confirmed()
    await db.query(`UPDATE ${schema}.products SET name = 'gated' WHERE id = 16`)
    const { rows } = await db.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')
    const committed = rows[0]?.lsn as string
    await until(() => calls > 0, 60_000) // the change arrived; its invalidation is held
    await db.query('SELECT 1') // a round trip: any status the listener sent has been handled
    expect(await lsnAtLeast(db, await confirmed(), committed)).toBe(false)
    expect(await confirmed()).toBe(before)
    gate.resolve()
    await seen.waitFor([entityTag('product', 16)])
    await until(async () => lsnAtLeast(db, await confirmed(), committed), 60_000)
    await listener.close()
  })
})

async function lsnAtLeast(db: CaptureFixture['db'], lsn: string, than: string): Promise<boolean> {
  const { rows } = await db.query<{ ok: boolean }>('SELECT $1::pg_lsn >= $2::pg_lsn AS ok', [
    lsn,
    than,
  ])
  return rows[0]?.ok === true
}
