import { describe, expect, inject, it } from 'vitest'

import { captureConfig } from '../../src/cli/postgres.js'
import { createCache, entityTag } from '../../src/index.js'
import { redisStore } from '../../src/redis/store.js'
import { run, serve, type Served } from '../cli/spawn.js'
import { until } from '../helpers/deferred.js'
import { redisClient, uniquePrefix } from '../helpers/tiers.js'
import { connect, SHARED_URL, uniqueName } from './helpers.js'

describe('cachegraph serve --postgres', () => {
  it('reads --table as TABLE=ENTITY or TABLE=ENTITY:KEY', () => {
    expect(
      captureConfig({
        postgres: SHARED_URL,
        table: ['products=product', 'shop.order_items=orderItem:sku'],
      }),
    ).toEqual({
      url: SHARED_URL,
      tables: {
        products: { entity: 'product' },
        'shop.order_items': { entity: 'orderItem', key: 'sku' },
      },
      mode: 'triggers',
      name: 'cachegraph',
    })
    expect(captureConfig({})).toBeUndefined()
  })

  it('refuses bad flags with exit code 2, naming the flag', async () => {
    for (const [args, flag] of [
      [['--table', 'products=product'], '--table'],
      [['--postgres', SHARED_URL], '--postgres'],
      [['--postgres', SHARED_URL, '--table', 'products'], '--table'],
      [['--postgres', 'mysql://x', '--table', 'a=b'], '--postgres'],
      [['--postgres', SHARED_URL, '--table', 'a=b', '--postgres-mode', 'wal'], '--postgres-mode'],
    ] as const) {
      const { code, stderr } = await run(['serve', '--insecure', ...args])
      expect(code).toBe(2)
      expect(stderr).toContain(flag)
    }
  })

  it(
    'invalidates in Redis what a commit changed, with no app involved',
    { timeout: 60_000 },
    async () => {
      const db = await connect(SHARED_URL)
      const schema = uniqueName('cgcli')
      const name = uniqueName('cli')
      await db.query(`CREATE SCHEMA ${schema}`)
      await db.query(`CREATE TABLE ${schema}.products (id int PRIMARY KEY, name text)`)
      await db.query(`INSERT INTO ${schema}.products VALUES (1, 'a')`)
      const prefix = uniquePrefix()
      let served: Served | undefined
      try {
        served = await serve([
          '--insecure',
          '--redis',
          inject('redisUrl'),
          '--prefix',
          prefix,
          '--namespace',
          'shop',
          '--postgres',
          SHARED_URL,
          '--table',
          `${schema}.products=product`,
          '--postgres-name',
          name,
        ])
        await served.waitFor(/postgres: capturing/)
        // An app's view of the same store (no L1: it has no bus to hear of invalidations).
        const app = createCache({
          namespace: 'shop',
          l1: false,
          store: redisStore({ client: redisClient(), prefix }),
        })
        await app.set('p1', 'a', { tags: [entityTag('product', 1)] })
        expect(await app.get('p1')).toBe('a')
        await db.query(`UPDATE ${schema}.products SET name = 'b' WHERE id = 1`)
        await until(async () => (await app.get('p1')) === undefined, 30_000)
        await app.close()
        served.child.kill('SIGTERM')
        expect(await served.exited).toBe(0)
      } finally {
        if (served?.child.exitCode === null) served.child.kill('SIGKILL')
        await db.query(`DROP SCHEMA ${schema} CASCADE`)
        await db.query('DELETE FROM cachegraph.positions WHERE name = $1', [name])
      }
    },
  )
})
