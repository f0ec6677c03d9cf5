import { describe, expect, it } from 'vitest'

import { logLine, MAX_LOG_LINE } from '../../src/cli/log-line.js'

describe('logLine', () => {
  it('prefixes once', () => {
    expect(logLine('stopped')).toBe('cachegraph: stopped')
    expect(logLine('cachegraph: stopped')).toBe('cachegraph: stopped')
  })

  it('keeps a message that quotes a huge input to one bounded line', () => {
    const list = Array.from({ length: 100_000 }, (_, i) => `tag-${i}`).join('\n')
    const line = logLine(`invalidation of ${list} failed`)
    expect(line.length).toBeLessThanOrEqual(MAX_LOG_LINE)
    expect(line).not.toContain('\n')
    expect(line).toMatch(/more characters\)$/)
  })
})
