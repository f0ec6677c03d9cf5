import { CacheError } from '../errors.js'
import { checkName } from '../stores/batch-limits.js'
import type {
  GetOrSetOptions,
  InvalidationResult,
  Loader,
  SetManyEntry,
  SetOptions,
} from '../types/options.js'
import { CacheInfo } from './cache-info.js'
import type { Engine } from './engine.js'
import { IMPLICIT, keyTag, l1KeyOf, type Namespace } from './model/namespace.js'
import { checkNamespace } from './options.js'
import type { ReadThrough } from './ops/read-through.js'
import { hasLive, readMany, readOne, recordHit } from './ops/read.js'
import { channels, getOrSetStarted, getStarted, traced } from './tracing.js'
import { INTERNAL, type InternalApi, MISS } from './internal.js'
import { clearMatching } from './ops/keys.js'
import { runSession, sessionsOpen, type SessionOptions } from './ops/session.js'
import { Batcher, type LoadMany, pick } from '../memo/batch.js'
import { getOrSetMany, type GetOrSetManyOptions } from './ops/many.js'
import { memoize } from './ops/wrap.js'
import { invalidatesWith } from './ops/invalidates.js'
import type { BatchOptions, InvalidatesOptions, Memoized, WrapOptions } from '../types/memo.js'
import { commit, pendingWrites } from './ops/write.js'
import { checkKey, checkTags, entityTag } from './tags.js'
import type { L1Entry } from './tiers/l1.js'
import { ANY_VERSION, localHit } from './tiers/lookup.js'
import { invalidate } from './ops/invalidate.js'

/**
 * A cache whose entries know what they depend on. Create one with {@link createCache}; derive
 * children with {@link Cache.namespace} (they share tiers, connections and the tag space).
 */
export class Cache extends CacheInfo {
  readonly #engine: Engine
  readonly #reads: ReadThrough
  readonly #ns: Namespace

  /** @internal Use {@link createCache}. */
  constructor(engine: Engine, reads: ReadThrough, ns: Namespace) {
    super(engine, ns)
    this.#engine = engine
    this.#reads = reads
    this.#ns = ns
  }

  /** @internal Engine access for the memoization layer (`src/memo`). */
  get [INTERNAL](): InternalApi {
    return {
      getOrSet: (key, loader, options, implicitTags) => {
        checkKey(key)
        return this.#reads.getOrSet(this.#ns, key, loader, options, implicitTags)
      },
      freshValue: (key, version) => {
        const hit = this.#freshHit(key, version)
        return hit === undefined ? MISS : hit.value
      },
      invalidate: (tags) => invalidate(this.#engine, tags),
      keyTag: (key) => keyTag(this.#ns.prefix + key),
    }
  }

  /** The value under `key`, or `undefined` (missing, expired or invalidated). Never past its ttl. */
  get<T = unknown>(key: string): Promise<T | undefined> {
    // Hot path, kept free of `async`: an L1 hit resolves without an async frame.
    if (getStarted.hasSubscribers) return traced(channels.get, { key }, () => this.#getSlow<T>(key))
    const entry = this.#freshHit(key, ANY_VERSION)
    if (entry !== undefined) return Promise.resolve(entry.value as T)
    return this.#getSlow(key)
  }

  /**
   * The value of `key` when this process's memory tier holds it as a fresh hit — by the rule
   * `getOrSet` serves it with, for the same `version` — synchronously; `undefined` otherwise, and
   * then nothing happened (no miss counted, no shared-tier read, no load). A hit is counted and
   * its dependencies recorded as `getOrSet`'s would be. For hot paths that answer a hit without
   * a promise and fall back to `getOrSet` (the HTTP layer); while `getOrSet` is traced it
   * answers `undefined`, so each read goes through the traced call.
   *
   * @example const user = cache.peek<User>(key) ?? (await cache.getOrSet(key, load))
   */
  peek<T = unknown>(key: string, options?: { version?: string | number }): T | undefined {
    if (getOrSetStarted.hasSubscribers) return undefined
    const version = options?.version
    const hit = this.#freshHit(key, version === undefined ? undefined : String(version))
    return hit === undefined ? undefined : (hit.value as T)
  }

  // Not `async`: the read's own promise is handed back, with no async frame around it.
  #getSlow<T>(key: string): Promise<T | undefined> {
    try {
      checkKey(key)
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)))
    }
    const engine = this.#engine
    if (!engine.enabled) return Promise.resolve(undefined)
    return readOne(engine, this.#ns, key) as Promise<T | undefined>
  }

  /**
   * The L1 entry of `key` when it is a plain fresh hit that can be handed out as is (no copy to
   * make, no cached failure to rethrow); the hit is counted and its dependencies recorded.
   */
  #freshHit(key: string, version: string | undefined | typeof ANY_VERSION): L1Entry | undefined {
    const engine = this.#engine
    if (typeof key !== 'string' || key.length === 0 || key.charCodeAt(0) === 0) return undefined
    // Sessions count hits as calls and may hold private entries: they take the full path.
    if (!engine.enabled || engine.clone || sessionsOpen()) return undefined
    // A cached failure is not a plain hit: getOrSet rethrows it on its full path.
    const entry = localHit(engine, l1KeyOf(this.#ns, key), engine.clock.now(), version, false)
    if (entry === undefined) return undefined
    recordHit(this.#engine, this.#ns, key, entry)
    return entry
  }

  /** Values of `keys`, in order (`undefined` where missing). One shared-tier round trip for all L1 misses. */
  async getMany<T = unknown>(keys: readonly string[]): Promise<(T | undefined)[]> {
    keys.forEach(checkKey)
    if (!this.#engine.enabled) return keys.map(() => undefined)
    return (await readMany(this.#engine, this.#ns, keys)) as (T | undefined)[]
  }

  /** Whether a live value is stored under `key` (no recency update, no dependency recorded). */
  async has(key: string): Promise<boolean> {
    checkKey(key)
    return this.#engine.enabled && hasLive(this.#engine, this.#ns, key)
  }

  /**
   * Stores `value` under `key`; resolves to whether it was stored (false when one of its tags was
   * invalidated after `asOf`, or when a newer value is already there). `undefined` is not a value:
   * use `delete`.
   */
  async set<T>(key: string, value: T, options: SetOptions = {}): Promise<boolean> {
    // The options named, not spread: spreading the caller's object is a slow generic copy.
    const { tags, ttl, asOf } = options
    const stored = await this.setMany([{ key, value, tags, ttl, asOf }])
    return stored[0] as boolean
  }

  /** Stores several entries; one shared-tier round trip. */
  async setMany(entries: readonly SetManyEntry[]): Promise<boolean[]> {
    const engine = this.#engine
    const writes = pendingWrites(engine, this.#ns, entries)
    if (!engine.enabled) return entries.map(() => false)
    return traced(channels.set, { key: writes.map((w) => w.fullKey).join(',') }, () =>
      commit(engine, writes, engine.clock.now()),
    )
  }

  /**
   * Read-through: the cached value of `key`, or the loader's (stored unless it is `undefined`).
   * Concurrent calls for one key run the loader once. Loader errors reach every caller as thrown
   * and are not cached.
   */
  getOrSet<T>(key: string, loader: Loader<T>, options?: GetOrSetOptions<T>): Promise<T> {
    if (!getOrSetStarted.hasSubscribers) return this.#getOrSet(key, loader, options)
    const context = { key: this.#ns.prefix + key }
    return traced(channels.getOrSet, context, () => this.#getOrSet(key, loader, options))
  }

  #getOrSet<T>(key: string, loader: Loader<T>, options?: GetOrSetOptions<T>): Promise<T> {
    const version = options?.version
    // With earlyRefresh, a hit may have to start a refresh: the full path decides.
    const hit =
      options?.earlyRefresh === undefined
        ? this.#freshHit(key, version === undefined ? undefined : String(version))
        : undefined
    if (hit !== undefined) return Promise.resolve(hit.value as T)
    let problem: CacheError | undefined
    try {
      checkKey(key)
      if (typeof loader !== 'function') {
        throw new CacheError('E_INVALID_VALUE', 'cachegraph: getOrSet needs a loader function')
      }
      if (options?.tags !== undefined && typeof options.tags !== 'function') checkTags(options.tags)
    } catch (error) {
      problem = error as CacheError
    }
    // Bad arguments reject like every other failure of this async API (no synchronous throw).
    if (problem !== undefined) return Promise.reject(problem)
    return this.#reads.getOrSet(this.#ns, key, loader, options)
  }

  /**
   * Memoizes `fn`: calls are cached under `name` + their arguments, with every read-through
   * option, tags as a list or `(args, result) => tags`, and entity tags found in results.
   *
   * @example
   * const getUser = cache.wrap(async (id: string) => db.users.find(id), { name: 'getUser', entity: 'user' })
   * await getUser('42')
   * await cache.invalidateEntity('user', 42) // drops getUser('42') and everything built from it
   */
  wrap<F extends (...args: never[]) => unknown>(
    fn: F,
    options: WrapOptions<Parameters<F>, Awaited<ReturnType<F>>>,
  ): Memoized<Parameters<F>, Awaited<ReturnType<F>>> {
    // Generic in the function, not in its parameters: `fn` alone decides the signature (with the
    // parameters as an inference site, `key: (id, page) => ...` made optional parameters required).
    type A = Parameters<F>
    type R = Awaited<ReturnType<F>>
    return memoize(this, fn as unknown as (...args: A) => R | Promise<R>, options)
  }

  /**
   * Wraps a mutation: `tags` and memoized `entries` are invalidated before it runs and again
   * after it settles (also when it fails, whose error is rethrown).
   */
  invalidates<A extends unknown[], R>(
    mutation: (...args: A) => R,
    options: InvalidatesOptions<A, Awaited<R>>,
  ): (...args: A) => Promise<Awaited<R>> {
    return invalidatesWith(this, mutation, options)
  }

  /**
   * Values of `keys`: from L1, then one shared-tier read, then one `loadMany(missingKeys)` call
   * for the rest (a Map, a record or a list aligned with the keys). Keys it does not return are
   * not cached.
   */
  async getOrSetMany<V>(
    keys: readonly string[],
    loadMany: LoadMany<V>,
    options: GetOrSetManyOptions<V> = {},
  ): Promise<(V | undefined)[]> {
    keys.forEach(checkKey)
    if (!this.#engine.enabled) {
      const result = await loadMany([...new Set(keys)])
      const valueOf = pick(result, [...new Set(keys)])
      return keys.map(valueOf)
    }
    return getOrSetMany(this.#engine, this.#ns, keys, loadMany, options)
  }

  /**
   * A DataLoader-style loader: concurrent misses within `windowMs` (default: this turn of the
   * event loop) are loaded with one `loadMany` call (at most `maxBatchSize` keys each), and its
   * result — or its error — reaches every waiter. Each key is cached through `getOrSet`.
   */
  batch<V>(
    loadMany: LoadMany<V>,
    options: BatchOptions<V> = {},
  ): (key: string) => Promise<V | undefined> {
    const { windowMs = 0, maxBatchSize = 1_000, tags, ...read } = options
    const batcher = new Batcher(loadMany, windowMs, maxBatchSize)
    return (key) =>
      this.getOrSet<V | undefined>(key, () => batcher.load(key), {
        ...read,
        ...(tags === undefined
          ? {}
          : { tags: (value) => (value === undefined ? [] : tags(key, value)) }),
      })
  }

  /**
   * Runs `fn` in session `id` (process-local; concurrent and nested calls with the same id share
   * it): entries read with `scope: 'session'` are private to it, kept in L1 only and dropped
   * when the last `session(id)` call settles; entries built from them are private too.
   * `loopDetection` guards agent tool loops (repeats, depth, oscillation).
   */
  session<T>(id: string, fn: () => T | Promise<T>, options: SessionOptions = {}): Promise<T> {
    const engine = this.#engine
    return runSession(engine, id, options, fn, (keys) => {
      for (const key of keys) engine.l1?.delete(key)
    })
  }

  /** Preloads entries whose keys are missing; existing ones are left as they are. */
  async warm(
    loaders: Record<string, Loader<unknown>>,
    options?: GetOrSetOptions<unknown>,
  ): Promise<void> {
    await Promise.all(
      Object.entries(loaders).map(([key, loader]) => this.getOrSet(key, loader, options)),
    )
  }

  /** Removes `key` everywhere; a load of it already running is not stored. */
  async delete(key: string): Promise<void> {
    return this.deleteMany([key])
  }

  /** Removes `keys` everywhere in one invalidation. */
  async deleteMany(keys: readonly string[]): Promise<void> {
    keys.forEach(checkKey)
    const fullKeys = keys.map((key) => this.#ns.prefix + key)
    const tags = fullKeys.map(keyTag)
    // The whole call is checked before anything changes anywhere (E_TOO_LARGE).
    for (const tag of tags) checkName(tag, 'key')
    for (const key of keys) this.#engine.l1?.delete(l1KeyOf(this.#ns, key))
    this.#engine.counters.deletes += keys.length
    try {
      await invalidate(this.#engine, tags, { keys: true })
    } finally {
      if (this.#engine.events.has('delete')) this.#engine.events.emit('delete', { keys: fullKeys })
    }
  }

  /**
   * Invalidates every entry that depends on any of `tags`, in every tier (and, with a bus, every
   * process). Cost does not depend on the number of dependents. With `{ stale: true }` entries may
   * still be served within their grace period while they refresh. With `{ ack: true }` (and a
   * bus) it resolves only once every other process has applied it or stopped trusting its L1
   * (at most `maxSilence` later): no process serves the old value after that (docs/fleet.md).
   */
  async invalidate(
    tags: string | readonly string[],
    options: { stale?: boolean; ack?: boolean } = {},
  ): Promise<InvalidationResult> {
    return invalidate(this.#engine, checkTags(tags), {
      stale: options.stale === true,
      ack: options.ack === true,
    })
  }

  /** Same as `invalidate(entityTag(type, id))`. */
  async invalidateEntity(type: string, id: string | number | bigint): Promise<InvalidationResult> {
    return this.invalidate(entityTag(type, id))
  }

  /**
   * Invalidates everything in this namespace (its children included, its parent untouched): one
   * invalidation, whatever the number of entries. With `pattern`, only the keys matching it (in
   * this namespace and its children), found by scanning (cost grows with the keys scanned):
   * every matching key is removed for every process, however many tags this one remembers
   * (`maxTags`). The pattern is a Redis glob (docs/admin-api.md#patterns); one that cannot be
   * rejects with `E_INVALID_PATTERN`. Resolves to how many keys a pattern clear removed.
   */
  async clear(options: { pattern?: string } = {}): Promise<number | undefined> {
    if (options.pattern !== undefined) return clearMatching(this.#engine, this.#ns, options.pattern)
    await invalidate(this.#engine, [this.#ns.tags[this.#ns.tags.length - 1] as string])
    return undefined
  }

  /**
   * A token to pass as `set(key, value, { asOf })`: take it before reading the data you cache, and
   * an invalidation that lands in between voids the write.
   */
  begin(): Promise<number> {
    return this.#engine.begin()
  }

  /** A child namespace: shares tiers and tag space; its `clear()` clears only itself. */
  namespace(name: string): Cache {
    checkNamespace(name, 'namespace')
    const path = `${this.#ns.path}:${name}`
    return new Cache(this.#engine, this.#reads, {
      path,
      prefix: `${path}::`,
      l1Prefix: `\0${path}\0`,
      tags: [...this.#ns.tags, `${IMPLICIT}ns:${path}`],
    })
  }
}
