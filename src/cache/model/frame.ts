import { AsyncLocalStorage } from 'node:async_hooks'

import { CacheError } from '../../errors.js'

/**
 * What is known about the entry a loader is computing: the tags it depends on, the sequence it is
 * "as of" (lowered by every older input, so a value is never fresher than its inputs), and the
 * earliest expiry among its inputs. One frame per load; every nested cached call merges into it.
 */
export interface LoadFrame {
  /**
   * Each tag with the sequence its information is as of: the load's own `ownStart` for tags it
   * declared, a nested input's start for tags that came with that input. Checking each tag
   * against its own start is what keeps one old input from voiding every other tag.
   */
  readonly tags: Map<string, number>
  /** The sequence this load itself is as of (read before the loader ran). */
  readonly ownStart: number
  /** The oldest start among the load and its inputs. */
  start: number
  expiresAt: number
  /** Set by `ctx.skip()`: the value is returned but not stored. */
  skip: boolean
  /** Set by `ctx.setTtl()`. */
  ttlMs: number | undefined
  /** A closed frame (its loader settled) ignores late `dependsOn` calls. */
  closed: boolean
  /** How many cached calls enclose this load (loop detection's `maxDepth`). */
  readonly depth: number
  /** A session-scoped input was used: the value is private to the session (L1 only). */
  sessionScoped: boolean
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

/** What the entry being computed depends on so far (see {@link currentDependencies}). */
export interface Dependencies {
  /** Every tag recorded so far: declared, given by `dependsOn`, or from nested cached calls. */
  readonly tags: readonly string[]
  /** The shortest expiry of its nested inputs (ms since the epoch of the cache's clock). */
  readonly expiresAt: number
  /** A ttl set by the loader (`ctx.setTtl`), if any. */
  readonly ttlMs: number | undefined
}

/**
 * The dependencies of the entry whose loader is running (inside `getOrSet`, a memoized call or
 * the HTTP layer's handler), or undefined outside a loader. A snapshot: later `dependsOn` calls
 * do not change it.
 *
 * @example
 * const value = await cache.getOrSet('page', async () => {
 *   const user = await getUser(7)          // a memoized call: its tags are recorded
 *   currentDependencies()?.tags            // ['@key:app::page', ..., 'user:7', ...]
 *   return render(user)
 * })
 */
export function currentDependencies(): Dependencies | undefined {
  const frame = currentFrame()
  if (frame === undefined) return undefined
  return { tags: [...frame.tags.keys()], expiresAt: frame.expiresAt, ttlMs: frame.ttlMs }
}

/** Creates the frame of a new load. */
export function newFrame(tags: Iterable<string>, start: number, depth = 0): LoadFrame {
  const map = new Map<string, number>()
  for (const tag of tags) map.set(tag, start)
  return {
    tags: map,
    ownStart: start,
    start,
    expiresAt: Infinity,
    skip: false,
    ttlMs: undefined,
    closed: false,
    depth,
    sessionScoped: false,
  }
}

/** Records that the load itself read data described by `tag` (as of its own start). */
export function addOwnTag(frame: LoadFrame, tag: string): void {
  const known = frame.tags.get(tag)
  if (known === undefined || known > frame.ownStart) frame.tags.set(tag, frame.ownStart)
}

/** The frame's tags as parallel lists; `tagStarts` is omitted when every tag is as of `start`. */
export function frameTags(frame: LoadFrame): { tags: string[]; tagStarts: number[] | undefined } {
  const tags = [...frame.tags.keys()]
  const starts = [...frame.tags.values()]
  return { tags, tagStarts: starts.every((s) => s === frame.start) ? undefined : starts }
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
  tagStarts: readonly number[] | undefined,
  expiresAt: number,
): void {
  if (frame === undefined || frame.closed) return
  for (let i = 0; i < tags.length; i++) {
    const tag = tags[i] as string
    const tagStart = tagStarts === undefined ? start : (tagStarts[i] as number)
    const known = frame.tags.get(tag)
    if (known === undefined || tagStart < known) frame.tags.set(tag, tagStart)
  }
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
  for (const tag of tags) addOwnTag(frame, tag)
}

/** Turns on the `strictDependencies` check for the whole process (the AsyncLocalStorage is global). */
export function enableStrictDependencies(): void {
  strictDependencies = true
}
