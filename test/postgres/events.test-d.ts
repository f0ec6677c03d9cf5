import { expectTypeOf, test } from 'vitest'

import { createCache } from '../../src/index.js'
import { postgresInvalidation, type PostgresInvalidationEvents } from '../../src/postgres/index.js'

test('events are typed by name', () => {
  const capture = postgresInvalidation({
    cache: createCache({}),
    connectionString: 'postgres://localhost/db',
    tables: { products: 'product' },
  })
  capture.on('invalidate', (payload) => {
    expectTypeOf(payload.tags).toEqualTypeOf<readonly string[]>()
    expectTypeOf(payload.lagMs).toBeNumber()
  })
  capture.on('start', (payload) => {
    expectTypeOf(payload.mode).toEqualTypeOf<'triggers' | 'replication'>()
  })
  capture.on('error', (payload) => {
    expectTypeOf(payload.operation).toEqualTypeOf<'connect' | 'read' | 'invalidate'>()
  })
  expectTypeOf<PostgresInvalidationEvents['disconnect']>().toEqualTypeOf<{ error: unknown }>()
  // @ts-expect-error: no such event
  capture.on('nope', () => {})
  // @ts-expect-error: mode is triggers or replication
  postgresInvalidation({ cache: createCache({}), connectionString: 'x', tables: {}, mode: 'wal' })
})
