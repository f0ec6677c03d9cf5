import { afterEach, describe, expect, it } from 'vitest'

import { createWarning, definedWarnings, REDIS_EVICTION_POLICY } from '../../src/warnings.js'

function capture(): { warnings: Error[]; stop: () => void } {
  const warnings: Error[] = []
  const listener = (warning: Error) => warnings.push(warning)
  process.on('warning', listener)
  return { warnings, stop: () => process.off('warning', listener) }
}

/** Node emits warnings on the next tick. */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('coded warnings (src/warnings.ts)', () => {
  afterEach(() => REDIS_EVICTION_POLICY.reset())

  it('emits a `once` warning the first time only, with its code and name', async () => {
    const { warnings, stop } = capture()
    REDIS_EVICTION_POLICY('allkeys-lru')
    REDIS_EVICTION_POLICY('allkeys-lru')
    await tick()
    stop()
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatchObject({
      code: 'CACHEGRAPH_REDIS_POLICY',
      name: 'CachegraphWarning',
    })
    expect(warnings[0]?.message).toContain("'allkeys-lru'")
    expect(REDIS_EVICTION_POLICY.emitted).toBe(true)
  })

  it('emits a warning that is not `once` every time', async () => {
    const every = createWarning({
      code: 'CACHEGRAPH_TEST_EVERY',
      message: (n: number) => `call ${n}`,
      once: false,
    })
    const { warnings, stop } = capture()
    every(1)
    every(2)
    await tick()
    stop()
    expect(warnings.map((w) => w.message)).toEqual(['call 1', 'call 2'])
  })

  it('keeps one definition per code, all with the CACHEGRAPH_ prefix', () => {
    expect(() => createWarning({ code: 'CACHEGRAPH_REDIS_POLICY', message: () => '' })).toThrow()
    for (const code of definedWarnings().keys()) expect(code).toMatch(/^CACHEGRAPH_[A-Z_]+$/)
  })
})
