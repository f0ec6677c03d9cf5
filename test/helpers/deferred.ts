/** A promise resolved or rejected from outside: decides exactly when a loader finishes. */
export interface Deferred<T> {
  promise: Promise<T>
  resolve(value: T): void
  reject(error: unknown): void
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** Lets every already-queued microtask and I/O callback run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/**
 * Resolves once `condition()` holds, checking after every turn of the event loop (for steps that
 * take a real round trip, e.g. a loader that starts after a Redis read). Fails after `ms`.
 */
export async function until(
  condition: () => boolean | Promise<boolean>,
  ms = 2_000,
): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time')
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
}
