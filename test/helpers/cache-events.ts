import type { Cache } from '../../src/cache/cache.js'
import type { CacheEventName, CacheEvents } from '../../src/cache/events.js'

/** The next `name` event of `cache` that matches. */
export function next<E extends CacheEventName>(
  cache: Cache,
  name: E,
  match: (payload: CacheEvents[E]) => boolean = () => true,
): Promise<CacheEvents[E]> {
  return new Promise((resolve) => {
    const listener = (payload: CacheEvents[E]) => {
      if (!match(payload)) return
      cache.off(name, listener)
      resolve(payload)
    }
    cache.on(name, listener)
  })
}

/** Every `name` event of `cache` from now on. */
export function events<E extends CacheEventName>(cache: Cache, name: E): CacheEvents[E][] {
  const seen: CacheEvents[E][] = []
  cache.on(name, (payload) => seen.push(payload))
  return seen
}
