import type { Cache } from '../../index.js'

const hooks = new WeakMap<Cache, Set<() => void>>()

/**
 * Calls `hook` when `cache.close()` is called, before the cache closes; returns the undo.
 *
 * Why a wrapper: the cache has no `close` event (closing clears its listeners), yet open event
 * streams must end with it — an open response would keep the process, and a server's graceful
 * close, waiting. Only this object's `close()` is seen: closing the same cache through another
 * namespace object does not end the streams (the admin API's own `close()` still does).
 */
export function onCacheClose(cache: Cache, hook: () => void): () => void {
  let set = hooks.get(cache)
  if (set === undefined) {
    const hooked = new Set<() => void>()
    set = hooked
    hooks.set(cache, hooked)
    const close = cache.close.bind(cache)
    Object.defineProperty(cache, 'close', {
      configurable: true,
      writable: true,
      value: () => {
        for (const each of [...hooked]) each()
        return close()
      },
    })
  }
  set.add(hook)
  const hooked = set
  return () => void hooked.delete(hook)
}
