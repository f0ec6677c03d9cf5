import {
  addOwnTag,
  currentFrame,
  frameTags,
  type LoadFrame,
  newFrame,
  runInFrame,
} from '../model/frame.js'
import type { SessionState } from './session.js'
import type { Loader, LoaderContext } from '../../types/options.js'
import { toMs } from '../../util/duration.js'
import { CachedFailure, type DecodedEntry } from '../tiers/entry-codec.js'
import { countMiss, judge, Served, countHit } from '../tiers/lookup.js'
import type { Engine } from '../engine.js'
import type { L1Entry } from '../tiers/l1.js'
import type { PendingWrite } from '../model/namespace.js'
import { channels, traced } from '../tracing.js'
import { type LockPlan, leaseOrWait, releaseLease } from './lease.js'
import { commit } from './write.js'

/** What a finished load (or a stored entry) hands to the callers. */
export interface LoadResult {
  /** The value, or a `CachedFailure` to rethrow. */
  value: unknown
  tags: readonly string[]
  /** The oldest sequence any of its information is as of. */
  start: number
  /** Per-tag starts when they differ from `start`. */
  tagStarts: readonly number[] | undefined
  expiresAt: number
  /** Private to a session (built from session-scoped values). */
  session?: boolean
  /**
   * The store refused it for a step this process had not heard of (a quiet one): a caller that
   * joined the load may have asked after that step, so it loads again.
   */
  unheard?: boolean
}

/** Everything one read-through call decided about its load, resolved once per call. */
export interface LoadPlan {
  fullKey: string
  l1Key: string
  key: string
  loader: Loader<unknown>
  /** Tags known before loading (user tags, implicit key and namespace tags). */
  tags: readonly string[]
  tagsOf: ((result: unknown) => readonly string[]) | undefined
  ttlMs: number
  graceMs: number
  version: string | undefined
  cacheErrors: { when: (error: unknown) => boolean; ttlMs: number } | undefined
  /** The session the call runs in, if any. */
  session: SessionState | undefined
  /** `scope: 'session'`: never read from or written to anything but the session's L1 keys. */
  sessionOnly: boolean
  /** `lock`: one process computes, the others wait for its value. */
  lock: LockPlan | undefined
  /**
   * An early refresh of an entry created at this time: the shared tier's copy is a hit only when
   * it is newer (another process refreshed it already).
   */
  refreshOf?: number
}

/** One load of one key, shared by every caller that may join it. */
export interface Flight {
  readonly fullKey: string
  /** Registry generation when the flight began: unchanged means "nothing invalidated since". */
  readonly generation: number
  readonly tags: readonly string[]
  /** Known once the miss read answered (or at once without a store). */
  start: number | undefined
  /** Tags discovered so far by the running loader. */
  frame: LoadFrame | undefined
  /** Resolves after the shared-tier read: a graced value found there, to serve while loading. */
  probe: Promise<LoadResult | undefined>
  promise: Promise<LoadResult>
  /** Some caller was served a graced value instead of this load's result. */
  servedStale: boolean
  failureReported: boolean
  /** `ctx.signal`: aborted once every caller gave up (see {@link joinFlight}). */
  readonly abort: AbortController
  /** Callers still waiting that may give up through their signal. */
  abortable: number
  /** Someone waits who cannot give up (no signal), or the load runs for the cache itself. */
  anchored: boolean
}

/**
 * A caller waits for `flight`: with no signal it anchors the load (it runs to the end); with one,
 * the load's own signal aborts once every such caller's signal did and nothing anchors it.
 */
export function joinFlight(flight: Flight, signal: AbortSignal | undefined): void {
  if (flight.anchored) return
  if (signal === undefined) {
    flight.anchored = true
    return
  }
  flight.abortable++
  const onAbort = () => {
    flight.abortable--
    if (flight.abortable === 0 && !flight.anchored) flight.abort.abort(signal.reason)
  }
  if (signal.aborted) return onAbort()
  signal.addEventListener('abort', onAbort, { once: true })
  // A long-lived signal must not keep the listeners of settled loads.
  const forget = () => signal.removeEventListener('abort', onAbort)
  flight.promise.then(forget, forget)
}

export function resultOf(entry: L1Entry | DecodedEntry): LoadResult {
  const { value, tags, start, tagStarts, expiresAt } = entry
  return { value, tags, start, tagStarts, expiresAt }
}

/** Starts the load described by `plan`: shared-tier read, then the loader, then the write. */
export function startFlight(engine: Engine, plan: LoadPlan): Flight {
  let resolveProbe!: (stale: LoadResult | undefined) => void
  const flight: Flight = {
    fullKey: plan.fullKey,
    generation: engine.registry.generation,
    tags: plan.tags,
    start: undefined,
    frame: undefined,
    probe: new Promise((resolve) => (resolveProbe = resolve)),
    promise: undefined as unknown as Promise<LoadResult>,
    servedStale: false,
    failureReported: false,
    abort: new AbortController(),
    abortable: 0,
    anchored: plan.refreshOf !== undefined,
  }
  flight.promise = traced(channels.load, { key: plan.fullKey }, () =>
    load(engine, flight, plan, resolveProbe),
  )
  return flight
}

async function load(
  engine: Engine,
  flight: Flight,
  plan: LoadPlan,
  resolveProbe: (stale: LoadResult | undefined) => void,
): Promise<LoadResult> {
  let start = engine.localSeq()
  let sharedAsked = false
  const depth = (currentFrame()?.depth ?? 0) + 1
  try {
    if (engine.store !== undefined && plan.sessionOnly) {
      // Session entries live in L1 only; the store is asked only for the sequence to load as of.
      start = (await engine.shared?.read([]))?.seq ?? -Infinity
    } else if (engine.store !== undefined) {
      const looked = await lookUp(engine, plan, resolveProbe)
      if (looked.hit !== undefined) return looked.hit
      sharedAsked = true
      // Unreachable store: the loader still runs, but its value cannot be vouched for, so it is
      // as of "never" and nothing is stored.
      start = looked.seq
    }
  } finally {
    resolveProbe(undefined)
  }
  let leaseToken: string | undefined
  if (plan.lock !== undefined && Number.isFinite(start)) {
    let hit: LoadResult | undefined
    const outcome = await leaseOrWait(engine, plan.fullKey, plan.lock, async () => {
      const looked = await lookUp(engine, plan, () => {})
      hit = looked.hit
      // The latest read before the loader runs is what it is as of.
      if (hit === undefined && Number.isFinite(looked.seq)) start = looked.seq
      return hit !== undefined
    })
    if (outcome.kind === 'found' && hit !== undefined) return hit
    if (outcome.kind === 'compute') leaseToken = outcome.token
  }
  try {
    return await compute(engine, flight, plan, start as number, depth, sharedAsked)
  } finally {
    releaseLease(engine, plan.fullKey, leaseToken)
  }
}

/**
 * Reads the key from the shared tier: a fresh valid entry is a hit (it fills L1 with its
 * original start); a graced one is handed to `resolveProbe` for callers that may be served
 * stale. Also returns the store's sequence, which a load that follows is as of.
 */
async function lookUp(
  engine: Engine,
  plan: LoadPlan,
  resolveProbe: (stale: LoadResult | undefined) => void,
): Promise<{ hit?: LoadResult; seq: number }> {
  const read = await engine.shared?.read([plan.fullKey])
  const entry = read?.entries[0]
  const now = engine.clock.now()
  // getOrSet rethrows a cached failure; the caller's own grace narrows later (read-through.ts).
  const verdict = judge(entry, now, plan.version, true, Infinity)
  const refreshed = plan.refreshOf === undefined || (entry?.createdAt ?? 0) > plan.refreshOf
  if (verdict === Served.Hit && entry !== undefined && refreshed) {
    countHit(engine, '', plan.fullKey, 'l2', false)
    engine.fillL1(plan.l1Key, entry, now)
    return { hit: resultOf(entry), seq: read?.seq ?? -Infinity }
  }
  if (verdict === Served.Stale && entry !== undefined) {
    engine.fillL1(plan.l1Key, entry, now)
    resolveProbe(resultOf(entry))
  }
  return { seq: read?.seq ?? -Infinity }
}

/** Runs the loader in its own dependency frame and stores what it returns. */
async function compute(
  engine: Engine,
  flight: Flight,
  plan: LoadPlan,
  start: number,
  depth: number,
  sharedAsked: boolean,
): Promise<LoadResult> {
  countMiss(engine, plan.fullKey, sharedAsked)
  engine.counters.loads++
  const frame = newFrame(plan.tags, start, depth)
  flight.start = start
  flight.frame = frame
  const grace = { ms: plan.graceMs }
  const ctx = loaderContext(plan.key, frame, flight.abort.signal, grace)
  let value: unknown
  try {
    value = await runInFrame(frame, () => plan.loader(ctx))
  } catch (error) {
    if (plan.cacheErrors?.when(error) === true) {
      await store(engine, plan, frame, new CachedFailure(error), plan.cacheErrors.ttlMs, grace.ms)
    }
    throw error
  }
  if (plan.tagsOf !== undefined) for (const tag of plan.tagsOf(value)) addOwnTag(frame, tag)
  return store(engine, plan, frame, value, frame.ttlMs ?? plan.ttlMs, grace.ms)
}

/** Stores a load's result (unless told not to) and returns it to the callers. */
async function store(
  engine: Engine,
  plan: LoadPlan,
  frame: LoadFrame,
  value: unknown,
  requestedTtlMs: number,
  graceMs: number,
): Promise<LoadResult> {
  const { tags, tagStarts } = frameTags(frame)
  const now = engine.options.clock.now()
  // An entry lives no longer than the shortest-lived input it was built from.
  const ttlMs = Math.min(requestedTtlMs, frame.expiresAt - now, engine.options.maxLifetimeMs)
  const result: LoadResult = {
    value,
    tags,
    start: frame.start,
    tagStarts,
    expiresAt: now + Math.max(0, ttlMs),
  }
  const session = plan.sessionOnly || frame.sessionScoped ? plan.session : undefined
  if (session !== undefined) result.session = true
  if (value === undefined || frame.skip || ttlMs <= 0 || !Number.isFinite(frame.start))
    return result
  try {
    const fullKey = plan.fullKey
    // A value built from session data is private to that session: its own L1 key, no store.
    const l1Key = session === undefined ? plan.l1Key : session.prefix + plan.l1Key
    if (session !== undefined) session.keys.add(l1Key)
    const localOnly = session !== undefined
    const write: PendingWrite = {
      ...{ fullKey, l1Key, value, tags, start: frame.start, tagStarts, ttlMs, localOnly },
      ...{ graceMs, version: plan.version },
    }
    await traced(channels.set, { key: fullKey }, () => commit(engine, [write], now))
    if (write.unheard === true) result.unheard = true
  } catch (error) {
    // The value cannot be stored (e.g. not serializable): callers still get it.
    engine.reportError(error, 'set', plan.fullKey)
  }
  return result
}

/** A loader's `ctx`; `grace.ms` is what `setGrace` sets (the load stores with it). */
export function loaderContext(
  key: string,
  frame: LoadFrame,
  signal: AbortSignal,
  grace: { ms: number },
): LoaderContext {
  return {
    key,
    signal,
    setTtl: (ttl) => void (frame.ttlMs = toMs(ttl, 'ttl')),
    setTags: (...tags) => tags.forEach((tag) => addOwnTag(frame, tag)),
    skip: () => void (frame.skip = true),
    setGrace: (duration) => void (grace.ms = toMs(duration, 'grace')),
  }
}
