import { describe, expect, it } from 'vitest'

import { createCache } from '../../src/index.js'

// Own file: the flag is process-wide (the AsyncLocalStorage is), and Vitest isolates files.

describe('strictDependencies', () => {
  it('dependsOn outside a loader is a no-op by default, an error when strict', async () => {
    const { dependsOn } = await import('../../src/index.js')
    expect(() => dependsOn('t')).not.toThrow()
    createCache({ strictDependencies: true })
    expect(() => dependsOn('t')).toThrow(
      expect.objectContaining({ code: 'E_NO_DEPENDENCY_CONTEXT' }),
    )
    const cache = createCache()
    await expect(cache.getOrSet('k', () => (dependsOn('inside'), 1))).resolves.toBe(1)
  })
})
