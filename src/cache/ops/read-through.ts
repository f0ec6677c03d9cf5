import {
  currentFrame,
  frameTags,
  type LoadFrame,
  mergeInto,
  newFrame,
  runInFrame,
} from '../model/frame.js'
import type { GetOrSetOptions, Loader } from '../../types/options.js'
import { toMs } from '../../util/duration.js'
import { CachedFailure } from '../tiers/entry-codec.js'
import { countHit, judge, localEntry, Served } from '../tiers/lookup.js'
import { type Engine } from '../engine.js'
import { keyTag, l1KeyOf, type Namespace } from '../model/namespace.js'
import {
  type Flight,
  joinFlight,
  type LoadPlan,
  type LoadResult,
  loaderContext,
  resultOf,
  startFlight,
} from './flight.js'
import { lockPlan } from './lease.js'
import { Validity } from '../model/tag-registry.js'
import { waitBounded, waitFor } from './wait.js'
import { CacheError } from '../../errors.js'
import { checkEarlyRefresh } from '../options.js'
import { currentSession, sessionsOpen, type SessionState } from './session.js'

const DEFAULT_ERROR_TTL_MS = 5_000

/**
 * `getOrSet`: L1, then one shared flight per key (shared-tier read, then the loader), with grace
 * (stale-while-revalidate), soft and hard timeouts.
 *
 * Rules (docs/invalidation.md): a load is as of the sequence read before the loader started;
 * a result whose tags were invalidated after that is returned to the callers already waiting but
 * not stored; a caller that arrives after such an invalidation never joins the older flight, and
 * one that joined before the loader discovered the invalidated tag loads again. Only expired or
 * soft-invalidated values are ever served graced — never hard-invalidated ones.
 */
export class ReadThrough {
  readonly #engine: Engine
  readonly #flights = new Map<string, Flight>()

  constructor(engine: Engine) {
    this.#engine = engine
  }

  async getOrSet<T>(
    ns: Namespace,
    key: string,
    loader: Loader<T>,
    options: GetOrSetOptions<T> = {},
    implicitTags: readonly string[] = [],
  ): Promise<T> {
    const engine = this.#engine
    if (options.earlyRefresh !== undefined) checkEarlyRefresh(options.earlyRefresh)
    const parent = currentFrame()
    if (!engine.options.enabled) return this.#runDisabled(key, loader, parent, options.signal)
    const session = sessionsOpen() ? currentSession(engine) : undefined
    if (options.scope === 'session' && session === undefined) {
      throw new CacheError(
        'E_NO_SESSION',
        `cachegraph: '${key}' is session-scoped but no cache.session() is running`,
      )
    }
    if (session === undefined)
      return this.#read(ns, key, loader, options, implicitTags, parent, undefined)
    const detector = session.loop
    const fullKey = ns.prefix + key
    const kind = detector?.record(fullKey, (parent?.depth ?? 0) + 1)
    if (detector !== undefined && kind !== undefined) {
      engine.events.emit('loop', { session: session.id, key: fullKey, kind })
      if (detector.onLoop !== 'warn') {
        const last = detector.lastValue(fullKey)
        if (detector.onLoop === 'shortCircuit' && last.found) return last.value as T
        throw new CacheError(
          'E_LOOP_DETECTED',
          `cachegraph: loop (${kind}) on '${fullKey}' in session '${session.id}'`,
        )
      }
    }
    const value = await this.#read(ns, key, loader, options, implicitTags, parent, session)
    detector?.remember(fullKey, value)
    return value
  }

  /** L1 (the session's private entries first), then the shared flight of the key. */
  async #read<T>(
    ns: Namespace,
    key: string,
    loader: Loader<T>,
    options: GetOrSetOptions<T>,
    implicitTags: readonly string[],
    parent: LoadFrame | undefined,
    session: SessionState | undefined,
  ): Promise<T> {
    const engine = this.#engine
    const now = engine.options.clock.now()
    const version = options.version === undefined ? undefined : String(options.version)
    const l1Key = l1KeyOf(ns, key)
    let entry = session === undefined ? undefined : localEntry(engine, session.prefix + l1Key)
    const isPrivate = entry !== undefined
    if (entry === undefined && options.scope !== 'session') entry = localEntry(engine, l1Key)
    // A per-call grace can only narrow what the entry's own grace allows.
    const readGraceMs = options.grace === undefined ? Infinity : toMs(options.grace, 'grace')
    // getOrSet rethrows a cached failure (`#deliver`).
    const verdict = judge(entry, now, version, true, readGraceMs)
    if (verdict === Served.Hit && entry !== undefined) {
      countHit(engine, ns.prefix, key, 'l1', false)
      if (options.earlyRefresh !== undefined && !isPrivate) {
        this.#refreshEarly(ns, key, loader, entry, now, options, implicitTags, session)
      }
      return this.#deliver({ ...resultOf(entry), session: isPrivate }, parent) as T
    }
    let stale: LoadResult | undefined
    if (verdict === Served.Stale && entry !== undefined) {
      stale = { ...resultOf(entry), session: isPrivate }
    }
    const fullKey = ns.prefix + key
    // Within a session, flights are the session's own: a result built from one session's private
    // data can never reach a caller of another session.
    const flightKey = session === undefined ? fullKey : session.prefix + fullKey
    const start = (): Flight =>
      this.#start(
        ns,
        fullKey,
        flightKey,
        key,
        loader,
        options as GetOrSetOptions<unknown>,
        version,
        implicitTags,
        session,
      )
    let flight = this.#flights.get(flightKey)
    if (flight !== undefined && !this.#canJoin(flight)) flight = undefined
    const joinedAt = flight === undefined ? undefined : engine.registry.generation
    flight ??= start()
    joinFlight(flight, options.signal)
    if (stale === undefined && engine.store !== undefined) {
      stale = await waitFor(flight.probe, options.signal)
      if (stale !== undefined && engine.options.clock.now() >= stale.expiresAt + readGraceMs) {
        stale = undefined
      }
    }
    if (stale !== undefined) {
      return this.#staleOrFresh(
        flight,
        stale,
        joinedAt,
        options as GetOrSetOptions<unknown>,
        parent,
      ) as Promise<T>
    }
    const hardTimeoutMs =
      options.hardTimeout === undefined ? Infinity : toMs(options.hardTimeout, 'hardTimeout')
    let result = await waitFor(flight.promise, options.signal, hardTimeoutMs, fullKey)
    if (this.#mustReload(flight, joinedAt, result)) {
      // Joined after an invalidation, and the loader later turned out to depend on what was
      // invalidated: this caller must not get the older value. Lead a fresh load.
      const again = start()
      joinFlight(again, options.signal)
      result = await waitFor(again.promise, options.signal, hardTimeoutMs, fullKey)
    }
    return this.#deliver(result, parent) as T
  }

  /**
   * A graced value is at hand: wait up to `timeout` (default 0) for the load, else — or if the
   * load fails — serve the graced value; the load goes on in the background.
   */
  async #staleOrFresh(
    flight: Flight,
    stale: LoadResult,
    joinedAt: number | undefined,
    options: GetOrSetOptions<unknown>,
    parent: LoadFrame | undefined,
  ): Promise<unknown> {
    const engine = this.#engine
    const timeoutMs = options.timeout === undefined ? 0 : toMs(options.timeout, 'timeout')
    if (timeoutMs > 0) {
      const outcome = await waitBounded(flight.promise, options.signal, timeoutMs)
      if (outcome.kind === 'value' && !this.#mustReload(flight, joinedAt, outcome.value)) {
        return this.#deliver(outcome.value, parent)
      }
      if (outcome.kind === 'error') this.#reportFailure(flight, outcome.error)
    }
    flight.servedStale = true
    // Its result now refreshes the entry for everyone: no caller's signal may abort it.
    flight.anchored = true
    countHit(engine, '', flight.fullKey, 'l1', true)
    return this.#deliver(stale, parent)
  }

  /** Hands a result to one caller: records its dependencies, rethrows a cached failure. */
  #deliver(result: LoadResult, parent: LoadFrame | undefined): unknown {
    mergeInto(parent, result.tags, result.start, result.tagStarts, result.expiresAt)
    // Scope propagates like tags: what is built from session data stays in the session.
    if (result.session === true && parent !== undefined) parent.sessionScoped = true
    if (result.value instanceof CachedFailure) throw result.value.error
    return this.#engine.handOut(result.value)
  }

  /**
   * A caller that joined `flight` loads again when it joined after something changed here and the
   * result is invalidated by now — or when the store refused the result for a step this process
   * never heard of (a quiet one): it cannot tell whether the caller asked before that step.
   */
  #mustReload(flight: Flight, joinedAt: number | undefined, result: LoadResult): boolean {
    return (
      joinedAt !== undefined &&
      (joinedAt !== flight.generation || result.unheard === true) &&
      this.#engine.registry.check(result.tags, result.start, result.tagStarts) === Validity.Invalid
    )
  }

  /** Whether a caller arriving now may share `flight`'s result. */
  #canJoin(flight: Flight): boolean {
    const registry = this.#engine.registry
    // Every caller of an aborted load gave up: its loader was told to stop.
    if (flight.abort.signal.aborted) return false
    // A process its bus does not vouch for cannot tell what was invalidated since it began.
    if (this.#engine.sync?.trusted === false) return false
    if (registry.generation === flight.generation) return true
    if (flight.start === undefined) return false
    if (flight.frame !== undefined) {
      const { tags, tagStarts } = frameTags(flight.frame)
      return registry.check(tags, flight.frame.start, tagStarts) !== Validity.Invalid
    }
    return registry.check(flight.tags, flight.start) !== Validity.Invalid
  }

  /**
   * `earlyRefresh`: a hit past that fraction of its entry's ttl starts one background reload of
   * the key, unless a load of it runs already. The reload is an ordinary flight — as of the
   * sequence read before its loader runs, so an invalidation after that voids its write — that
   * no caller's signal aborts; a failure is reported as an `error` event.
   */
  #refreshEarly<T>(
    ns: Namespace,
    key: string,
    loader: Loader<T>,
    entry: { createdAt: number; expiresAt: number },
    now: number,
    options: GetOrSetOptions<T>,
    implicitTags: readonly string[],
    session: SessionState | undefined,
  ): void {
    const fraction = options.earlyRefresh as number
    const { createdAt, expiresAt } = entry
    if (now < createdAt + (expiresAt - createdAt) * fraction) return
    const fullKey = ns.prefix + key
    const flightKey = session === undefined ? fullKey : session.prefix + fullKey
    if (this.#flights.has(flightKey)) return
    const flight = this.#start(
      ns,
      fullKey,
      flightKey,
      key,
      loader,
      options as GetOrSetOptions<unknown>,
      options.version === undefined ? undefined : String(options.version),
      implicitTags,
      session,
      createdAt,
    )
    flight.servedStale = true
  }

  #reportFailure(flight: Flight, error: unknown): void {
    if (flight.failureReported) return
    flight.failureReported = true
    this.#engine.reportError(error, 'refresh', flight.fullKey)
  }

  #start(
    ns: Namespace,
    fullKey: string,
    flightKey: string,
    key: string,
    loader: Loader<unknown>,
    options: GetOrSetOptions<unknown>,
    version: string | undefined,
    implicitTags: readonly string[],
    session: SessionState | undefined,
    refreshOf?: number,
  ): Flight {
    const engine = this.#engine
    const { cacheErrors } = options
    const plan: LoadPlan = {
      fullKey,
      l1Key: l1KeyOf(ns, key),
      key,
      loader,
      tags: [
        ...(typeof options.tags === 'function' ? [] : (options.tags ?? [])),
        keyTag(fullKey),
        ...implicitTags,
        ...ns.tags,
      ],
      tagsOf: typeof options.tags === 'function' ? options.tags : undefined,
      ttlMs: options.ttl === undefined ? engine.options.ttlMs : toMs(options.ttl, 'ttl'),
      graceMs: options.grace === undefined ? engine.options.graceMs : toMs(options.grace, 'grace'),
      version,
      session,
      sessionOnly: options.scope === 'session',
      lock: lockPlan(options.lock),
      ...(refreshOf === undefined ? {} : { refreshOf }),
      cacheErrors:
        cacheErrors === undefined
          ? undefined
          : typeof cacheErrors === 'function'
            ? { when: cacheErrors, ttlMs: DEFAULT_ERROR_TTL_MS }
            : {
                when: cacheErrors.when,
                ttlMs: toMs(cacheErrors.ttl ?? DEFAULT_ERROR_TTL_MS, 'cacheErrors.ttl'),
              },
    }
    const flight = startFlight(engine, plan)
    // Nobody may be left waiting (every caller aborted or was served stale): a failure must not
    // go unhandled, and is reported when it only happened in the background.
    flight.promise.catch((error: unknown) => {
      if (flight.servedStale) this.#reportFailure(flight, error)
    })
    this.#flights.set(flightKey, flight)
    const release = () => {
      if (this.#flights.get(flightKey) === flight) this.#flights.delete(flightKey)
    }
    flight.promise.then(release, release)
    return flight
  }

  async #runDisabled<T>(
    key: string,
    loader: Loader<T>,
    parent: LoadFrame | undefined,
    signal = new AbortController().signal,
  ): Promise<T> {
    const frame = newFrame([], parent?.start ?? Infinity)
    // Nothing is shared: the loader runs for this caller alone, with its signal.
    const value = await runInFrame(frame, () =>
      loader(loaderContext(key, frame, signal, { ms: 0 })),
    )
    const { tags, tagStarts } = frameTags(frame)
    mergeInto(parent, tags, frame.start, tagStarts, frame.expiresAt)
    return value
  }
}
