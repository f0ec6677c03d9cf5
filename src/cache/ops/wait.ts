import { CacheError } from '../../errors.js'

/** How a bounded wait ended. */
export type Outcome<T> =
  { kind: 'value'; value: T } | { kind: 'error'; error: unknown } | { kind: 'timeout' }

/**
 * Waits for `promise` as one caller: `signal` aborting rejects this caller only (with the
 * signal's reason), and after `timeoutMs` the wait ends with `{ kind: 'timeout' }`. The promise
 * itself goes on for whoever else waits on it. Timers are unref'd and always cleared.
 */
export function waitBounded<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  timeoutMs: number,
): Promise<Outcome<T>> {
  if (signal?.aborted) return Promise.reject(abortReason(signal))
  return new Promise<Outcome<T>>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined
    const onAbort = () => {
      cleanup()
      reject(abortReason(signal as AbortSignal))
    }
    const cleanup = () => {
      if (timer !== undefined) clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    if (Number.isFinite(timeoutMs)) {
      timer = setTimeout(() => {
        cleanup()
        resolve({ kind: 'timeout' })
      }, timeoutMs)
      timer.unref()
    }
    promise.then(
      (value) => {
        cleanup()
        resolve({ kind: 'value', value })
      },
      (error: unknown) => {
        cleanup()
        resolve({ kind: 'error', error })
      },
    )
  })
}

/**
 * Waits for `promise`; rejects with its error, the signal's reason, or `E_TIMEOUT` after
 * `hardTimeoutMs`.
 */
export async function waitFor<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  hardTimeoutMs = Infinity,
  key = '',
): Promise<T> {
  if (signal === undefined && hardTimeoutMs === Infinity) return promise
  const outcome = await waitBounded(promise, signal, hardTimeoutMs)
  if (outcome.kind === 'value') return outcome.value
  if (outcome.kind === 'error') throw outcome.error
  throw new CacheError(
    'E_TIMEOUT',
    `cachegraph: loading '${key}' took longer than ${hardTimeoutMs} ms`,
  )
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason
  return reason instanceof Error
    ? reason
    : new DOMException('This operation was aborted', 'AbortError')
}
