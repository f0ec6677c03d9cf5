import { describe, expect, it } from 'vitest'

import { createCache, memoryStore } from '../../src/index.js'
import { healthOf } from '../../src/protocol/health.js'

describe('the /health answer', () => {
  it('says ok with the namespace, the store, the circuit and no bus', () => {
    const cache = createCache({ namespace: 'shop', store: memoryStore() })
    expect(healthOf(cache)).toEqual({
      status: 'ok',
      namespace: 'shop',
      store: 'memory',
      circuit: 'closed',
      bus: null,
    })
  })

  it('is degraded while the circuit is not closed or the bus distrusts L1', () => {
    const source = (circuit: 'closed' | 'open', trusted: boolean) => ({
      name: 'n',
      storeName: 'redis',
      stats: () => ({ l2: { circuit }, bus: { trusted, seq: 5 } }),
    })
    expect(healthOf(source('open', true)).status).toBe('degraded')
    expect(healthOf(source('closed', false))).toMatchObject({
      status: 'degraded',
      bus: { trusted: false, seq: 5 },
    })
    expect(healthOf(source('closed', true)).status).toBe('ok')
  })
})
