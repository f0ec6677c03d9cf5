import { describe, expect, it } from 'vitest'

import { judge, type NextReport } from '../../scripts/freshness/next.js'
import { runChecker } from '../helpers/freshness.js'

/** The freshness checker's Next.js path (`npm run check:freshness -- --next`), short. */
function check(args: string[]) {
  return runChecker<NextReport>(['--next', '--json', ...args])
}

describe('freshness checker, Next.js path', () => {
  it('reads through both instances find no forbidden stale read', async () => {
    const { code, report, stderr } = await check(['--duration', '6', '--readers', '3'])
    expect(report.examples, stderr).toEqual([])
    expect(report.forbidden).toBe(0)
    expect(code).toBe(0)
    expect(report.writes).toBeGreaterThan(10)
    expect(report.reads).toBeGreaterThan(30)
    for (const reads of report.perInstance) expect(reads).toBeGreaterThan(5)
  }, 600_000)

  describe('judge', () => {
    const writes = [
      { version: 1, start: 100, acked: 110 },
      { version: 2, start: 200, acked: 210 },
      { version: 3, start: 6000, acked: 6010 },
    ]
    const strict = { strict: true }
    const overlap = { strict: false }

    it('a read begun after a write was acknowledged shows it, or a later one', () => {
      expect(judge(strict, writes, 2, 211, 5000)).toBe('fresh')
      expect(judge(strict, writes, 3, 211, 5000)).toBe('fresh')
      expect(judge(strict, writes, 1, 211, 5000)).toBe('forbidden')
      // Before the acknowledgement, the older value is still fine.
      expect(judge(strict, writes, 1, 205, 5000)).toBe('fresh')
    })

    it('fetch and ISR values a render overlapping the revalidation stored are allowed until the next revalidation after the render bound', () => {
      expect(judge(overlap, writes, 1, 211, 5000)).toBe('stale')
      // Write 3 began more than 5 s after write 2 replaced version 1, and was acknowledged.
      expect(judge(overlap, writes, 1, 6011, 5000)).toBe('forbidden')
      expect(judge(overlap, writes, 1, 6011, 6000)).toBe('stale')
      expect(judge(overlap, writes, 0, 211, 5000)).toBe('stale')
    })
  })
})
