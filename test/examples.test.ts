import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

import { describe, expect, inject, it } from 'vitest'

const run = promisify(execFile)

/** The documented examples run against the built package (`npm test` builds first). */
describe('examples', () => {
  it('quick-start.js', async () => {
    const { stdout } = await run(process.execPath, ['examples/quick-start.js'])
    expect(stdout).toContain('(db reads: 2)')
    expect(stdout).toContain('Grace Hopper')
    expect(stdout).toContain('(db reads: 3)')
  })

  it('memoization.js', async () => {
    const { stdout } = await run(process.execPath, ['examples/memoization.js'])
    expect(stdout).toBe(
      [
        'queries after two team reads: 2',
        'team after rename: Ada, Grace Hopper',
        'queries: 3',
        'queries after invalidating user 1: 4',
        'scores: 10, 20, 30 - queries: 5',
        'loop stopped: E_LOOP_DETECTED',
        '',
      ].join('\n'),
    )
  })

  for (const framework of ['fastify', 'express', 'hono']) {
    it(`${framework}/server.js --demo: MISS, HIT, a write, MISS`, async () => {
      const { stdout } = await run(process.execPath, [`examples/${framework}/server.js`, '--demo'])
      expect(stdout).toBe(
        [
          'GET   /products/1 -> MISS (price 10)',
          'GET   /products/1 -> HIT (price 10)',
          'PATCH /products/1 -> 200',
          'GET   /products/1 -> MISS (price 12)',
          'db reads: 2',
          '',
        ].join('\n'),
      )
    })
  }

  it('fleet/run.js: two apps, the service and a writer on one Redis', async () => {
    const { stdout } = await run(process.execPath, ['examples/fleet/run.js'], {
      env: { ...process.env, REDIS_URL: inject('redisUrl') },
      timeout: 14_000,
    })
    expect(stdout).toContain('app-a  GET /products/1 -> MISS (price 10)')
    expect(stdout).toContain('app-a  GET /products/1 -> HIT  (price 10)')
    expect(stdout).toContain('writer: flushCache(product 1) -> 200')
    const after = stdout.slice(stdout.indexOf('writer: flushCache'))
    expect(after).toMatch(/app-a {2}GET \/products\/1 -> (MISS|HIT) +\(price 12\)/)
    expect(after).toMatch(/app-b {2}GET \/products\/1 -> (MISS|HIT) +\(price 12\)/)
    expect(after).toContain('both apps serve the new price')
  }, 15_000)
})
