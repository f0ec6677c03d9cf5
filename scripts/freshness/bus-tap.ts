/**
 * When the bus delivered each invalidation to this reader's cache: the cache's own
 * `bus:invalidate` event, emitted as it applies a step another process took. That tells the
 * judge when "the bus delivered" it here, and gives the propagation figures.
 */
import type { Cache } from '../../src/index.js'
import type { SharedClock } from './clock.js'

export interface BusTap {
  close(): void
}

export function tapBus(
  cache: Cache,
  clock: SharedClock,
  onHeard: (seq: number, receivedAt: number, settledAt: number) => void,
): BusTap {
  const listener = ({ seq }: { seq: number }) => {
    const at = clock.now()
    onHeard(seq, at, at) // applied now: from here on the L1 knows
  }
  cache.on('bus:invalidate', listener)
  return { close: () => cache.off('bus:invalidate', listener) }
}
