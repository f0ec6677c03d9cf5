import { CacheError } from '../errors.js'
import { heardByOf, invalidationBody } from '../protocol/invalidation.js'
import { CLIENT_DROPPED } from '../warnings.js'
import { type ClientEventName, type ClientEvents, Emitter, type Invalidation } from './events.js'
import { nextDelay } from './backoff.js'
import { ExitHooks, warnNow } from './exit-hooks.js'
import { type InvalidationClientOptions, resolveClientOptions } from './options.js'
import { post } from './request.js'
import { systemTiming, type Timing } from './timing.js'

/** A fire-and-forget invalidation client. No method throws; only `flush()`/`close()` return promises, which never reject. */
export interface InvalidationClient {
  /** Queues the invalidation of one entity (the seed's `flush_cache`). Returns at once. */
  flushCache(entity: { entityId: string | number; entityType: string }): void
  /** Queues the invalidation of tags. Returns at once. */
  invalidate(tags: string | readonly string[]): void
  /** Resolves once everything queued so far was sent, or given up on (and reported). */
  flush(): Promise<void>
  /** Drains the queue, then refuses new invalidations (reported as `dropped`, reason `closed`). */
  close(): Promise<void>
  on<E extends ClientEventName>(event: E, listener: (payload: ClientEvents[E]) => void): this
  off<E extends ClientEventName>(event: E, listener: (payload: ClientEvents[E]) => void): this
  /** Invalidations waiting (not counting a request in flight). */
  readonly pending: number
}

/**
 * Creates a client that sends invalidations to the cachegraph service (or any server written for
 * cache-central-flush) in the background: duplicates coalesced, batched, retried with
 * exponential backoff and full jitter on network errors, timeouts and 5xx (never on 4xx) for up
 * to `retry.maxTime` (a minute: longer than a service takes to restart), each request with a
 * timeout, the queue bounded. Pending work is sent when the event loop empties (`beforeExit`);
 * an exit with work pending (`process.exit()`) reports what it lost, synchronously. No signal
 * handlers are installed: call `await client.close()` on shutdown.
 * Throws a `CacheError` with code `E_INVALID_OPTION` for invalid options (a missing or malformed
 * `apiUrl`).
 *
 * @example
 * const client = createInvalidationClient({ apiUrl: 'http://cache:8080/cache/invalidate', apiKey })
 * client.flushCache({ entityId: 42, entityType: 'product' })
 * process.once('SIGTERM', () => void client.close().then(() => process.exit(0)))
 */
export function createInvalidationClient(
  options: InvalidationClientOptions = {},
): InvalidationClient {
  return new Client(options)
}

/**
 * The client with its timing injected (tests run a long outage on a faster clock); not part of
 * the public entry point.
 */
export function createClientWithTiming(
  options: InvalidationClientOptions,
  timing: Timing,
): InvalidationClient {
  return new Client(options, timing)
}

class Client implements InvalidationClient {
  readonly #o: ReturnType<typeof resolveClientOptions>
  readonly #timing: Timing
  readonly #events = new Emitter()
  readonly #queue = new Map<string, Invalidation>()
  /** The batch being sent or waiting to be retried: not in the queue, not confirmed either. */
  #inFlight: readonly Invalidation[] = []
  #running = false
  #closed = false
  #timer: { ref(): unknown; unref(): unknown } | undefined
  #waiters: (() => void)[] = []
  readonly #warned = new Set<string>()
  readonly #hooks = new ExitHooks(
    () => void this.flush(),
    () => this.#exiting(),
  )

  constructor(options: InvalidationClientOptions, timing: Timing = systemTiming) {
    this.#o = resolveClientOptions(options, process.env)
    this.#timing = timing
  }

  get pending(): number {
    return this.#queue.size
  }

  on<E extends ClientEventName>(event: E, listener: (payload: ClientEvents[E]) => void): this {
    this.#events.on(event, listener)
    return this
  }

  off<E extends ClientEventName>(event: E, listener: (payload: ClientEvents[E]) => void): this {
    this.#events.off(event, listener)
    return this
  }

  flushCache(entity: { entityId: string | number; entityType: string }): void {
    try {
      const { entityId, entityType } = entity ?? {}
      const idOk =
        (typeof entityId === 'number' && Number.isFinite(entityId)) ||
        (typeof entityId === 'string' && entityId !== '')
      if (typeof entityType !== 'string' || entityType === '' || !idOk) {
        const item = { entityType, entityId } as Invalidation
        return this.#drop(
          [item],
          'rejected',
          new CacheError(
            'E_INVALID_TAG',
            'cachegraph/client: flushCache needs a non-empty entityType and an entityId (string or number)',
          ),
        )
      }
      this.#add(`e\0${entityType}\0${String(entityId)}`, { entityType, entityId })
    } catch {
      // Never into the caller.
    }
  }

  invalidate(tags: string | readonly string[]): void {
    try {
      for (const tag of typeof tags === 'string' ? [tags] : [...tags]) {
        if (typeof tag !== 'string' || tag === '') {
          this.#drop(
            [{ tag }],
            'rejected',
            new CacheError('E_INVALID_TAG', 'cachegraph/client: a tag must be a non-empty string'),
          )
          continue
        }
        this.#add(`t\0${tag}`, { tag })
      }
    } catch {
      // Never into the caller.
    }
  }

  flush(): Promise<void> {
    if (!this.#running && this.#queue.size === 0) return Promise.resolve()
    // Someone waits now: the backoff and batch timers must keep the process alive.
    this.#timer?.ref()
    return new Promise((resolve) => this.#waiters.push(resolve))
  }

  async close(): Promise<void> {
    this.#closed = true
    await this.flush()
    this.#unhookWhenIdle()
  }

  #add(key: string, item: Invalidation): void {
    if (this.#closed) return this.#drop([item], 'closed', new Error('cachegraph/client: closed'))
    if (this.#queue.has(key)) return // coalesced: the same invalidation is already waiting
    if (this.#queue.size >= this.#o.maxQueue) {
      return this.#drop(
        [item],
        'overflow',
        new Error(`cachegraph/client: queue full (${this.#o.maxQueue}); invalidation dropped`),
      )
    }
    this.#queue.set(key, item)
    this.#hooks.hook()
    if (!this.#running) {
      this.#running = true
      void this.#run()
    }
  }

  async #run(): Promise<void> {
    try {
      // What the caller queues in the same turn (or within `batch.delay`) goes together.
      await (this.#o.batchDelay > 0 ? this.#wait(this.#o.batchDelay) : new Promise(setImmediate))
      while (this.#queue.size > 0) {
        const batch: Invalidation[] = []
        for (const [key, item] of this.#queue) {
          if (batch.length === this.#o.maxBatch) break
          batch.push(item)
          this.#queue.delete(key)
        }
        this.#inFlight = batch
        await this.#send(batch)
        this.#inFlight = []
      }
    } catch {
      // #send reports its own failures; nothing else here can fail.
    } finally {
      this.#inFlight = []
      this.#running = false
      this.#unhookWhenIdle()
      for (const resolve of this.#waiters.splice(0)) resolve()
    }
  }

  /**
   * Sends one batch until the service takes it, retrying by time: a restart of the service
   * takes seconds, so a count of retries would be spent long before it is back. Only a 4xx, or
   * `retry.maxTime` (or `retry.retries`) spent, gives a batch up; the queue bounds what waits
   * behind it.
   */
  async #send(items: Invalidation[]): Promise<void> {
    const body = JSON.stringify(invalidationBody(items))
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (this.#o.apiKey !== undefined) headers['x-api-key'] = this.#o.apiKey
    let firstFailure: number | undefined
    for (let attempt = 1; ; attempt++) {
      const result = await post(this.#o.url, headers, body, this.#o.timeout)
      if (result.ok) {
        const { status, body: answer } = result
        const heardBy = heardByOf(answer)
        this.#events.emit('sent', {
          items,
          status,
          attempts: attempt,
          body: answer,
          ...(heardBy === undefined ? {} : { heardBy }),
        })
        return
      }
      const { error, retryable } = result
      this.#events.emit('error', { error, items })
      if (!retryable) return this.#drop(items, 'rejected', error)
      firstFailure ??= this.#timing.now()
      const delayMs = nextDelay(
        this.#o.backoff,
        attempt,
        this.#timing.now() - firstFailure,
        this.#timing.random(),
      )
      if (delayMs === undefined) return this.#drop(items, 'failed', error)
      this.#events.emit('retry', { items, attempt, delayMs, error })
      await this.#wait(delayMs)
    }
  }

  /** A timer that keeps the process alive only while someone awaits `flush()`. */
  #wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.#timing.setTimeout(() => {
        if (this.#timer === timer) this.#timer = undefined
        resolve()
      }, ms)
      this.#timer = timer
      if (this.#waiters.length === 0) timer.unref()
    })
  }

  /**
   * The process is exiting with work pending (`process.exit()` before `flush()`): it can no
   * longer be sent. Reported now, synchronously — there is no later.
   */
  #exiting(): void {
    const queued = [...this.#queue.values()]
    const items = [...this.#inFlight, ...queued]
    if (items.length === 0) return
    const message =
      `cachegraph/client: the process exited with ${items.length} invalidation(s) not sent ` +
      `(${queued.length} queued, ${this.#inFlight.length} in flight and unconfirmed): they are ` +
      'lost — an exit handler cannot send them; await client.flush() or client.close() before ' +
      'process.exit()'
    const error = new Error(message)
    this.#events.emit('dropped', { items, reason: 'exit', error })
    if (!this.#events.has('dropped')) {
      const line = `${message} (exit; listen to 'dropped' to handle it)`
      warnNow(line, CLIENT_DROPPED.code, this.#o.logger)
    }
  }

  #drop(items: Invalidation[], reason: ClientEvents['dropped']['reason'], error: Error): void {
    this.#events.emit('dropped', { items, reason, error })
    if (this.#events.has('dropped') || this.#warned.has(reason)) return
    // Nobody listens: say it once per reason rather than lose invalidations silently.
    this.#warned.add(reason)
    CLIENT_DROPPED.log(this.#o.logger, error.message, reason)
  }

  #unhookWhenIdle(): void {
    if (!this.#running && this.#queue.size === 0) this.#hooks.unhook()
  }
}
