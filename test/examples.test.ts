import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

import { describe, expect, it } from 'vitest'

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
})
