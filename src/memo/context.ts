import { AsyncLocalStorage } from 'node:async_hooks'

import { CacheError } from '../errors.js'

/**
 * What is known about the entry a loader is computing: the tags it depends on, the sequence it is
 * "as of" (lowered by every older input, so a value is never fresher than its inputs), and the
 * earliest expiry among its inputs. One frame per load; every nested cached call merges into it.
 */
export interface LoadFrame {
  readonly tags: Set<string>
  start: number
  expiresAt: number
  /** Set by `ctx.skip()`: the value is returned but not stored. */
  skip: boolean
  /** Set by `ctx.setTtl()`. */
  ttlMs: number | undefined
  /** A closed frame (its loader settled) ignores late `dependsOn` calls. */
  closed: boolean
}

const storage = new AsyncLocalStorage<LoadFrame>()
/** Loads running right now; while 0 the hit path skips the AsyncLocalStorage lookup. */
let runningLoads = 0
let strictDependencies = false

/** The frame of the entry being computed at this point of the async call chain, if any. */
export function currentFrame(): LoadFrame | undefined {
  if (runningLoads === 0) return undefined
  const frame = storage.getStore()
  return frame === undefined || frame.closed ? undefined : frame
}

/** Creates the frame of a new load. */
export function newFrame(tags: Iterable<string>, start: number): LoadFrame {
  return {
    tags: new Set(tags),
    start,
    expiresAt: Infinity,
    skip: false,
    ttlMs: undefined,
    closed: false,
  }
}

/** Runs `fn` with `frame` as the current frame, for every await, timer and branch it starts. */
export async function runInFrame<T>(frame: LoadFrame, fn: () => T | Promise<T>): Promise<T> {
  runningLoads++
  try {
    return await storage.run(frame, fn)
  } finally {
    runningLoads--
    frame.closed = true
  }
}

/** Folds what a nested cached call depended on into the enclosing frame. */
export function mergeInto(
  frame: LoadFrame | undefined,
  tags: readonly string[],
  start: number,
  expiresAt: number,
): void {
  if (frame === undefined || frame.closed) return
  for (const tag of tags) frame.tags.add(tag)
  if (start < frame.start) frame.start = start
  if (expiresAt < frame.expiresAt) frame.expiresAt = expiresAt
}

/**
 * Declares that the entry being computed depends on `tags`: invalidating any of them drops it,
 * and every entry built from it. Outside a loader it does nothing, unless a cache was created
 * with `strictDependencies: true`, in which case it throws `E_NO_DEPENDENCY_CONTEXT` (a driver
 * that lost the async context would otherwise go unnoticed).
 *
 * @example
 * const user = await cache.getOrSet(`user:${id}`, async () => {
 *   dependsOn(`user:${id}`, `org:${orgId}`)
 *   return db.users.find(id)
 * })
 */
export function dependsOn(...tags: string[]): void {
  const frame = currentFrame()
  if (frame === undefined) {
    if (strictDependencies) {
      throw new CacheError(
        'E_NO_DEPENDENCY_CONTEXT',
        `cachegraph: dependsOn(${tags.join(', ')}) ran where no cached value is being computed`,
      )
    }
    return
  }
  for (const tag of tags) frame.tags.add(tag)
}

/** Turns on the `strictDependencies` check for the whole process (the AsyncLocalStorage is global). */
export function enableStrictDependencies(): void {
  strictDependencies = true
}
