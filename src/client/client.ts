import { type ClientEventName, type ClientEvents, Emitter, type Invalidation } from './events.js'
import { type InvalidationClientOptions, resolveClientOptions } from './options.js'

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
 * exponential backoff and jitter on network errors, timeouts and 5xx (never on 4xx), each
 * request with a timeout, the queue bounded. Pending work is sent when the event loop empties
 * (`beforeExit`); no signal handlers are installed: call `await client.close()` on shutdown.
 * Throws a TypeError for invalid options (a missing or malformed `apiUrl`).
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

class Client implements InvalidationClient {
  readonly #o: ReturnType<typeof resolveClientOptions>
  readonly #events = new Emitter()
  readonly #queue = new Map<string, Invalidation>()
  #running = false
  #closed = false
  #timer: NodeJS.Timeout | undefined
  #waiters: (() => void)[] = []
  #hooked = false
  readonly #warned = new Set<string>()
  readonly #onBeforeExit = () => void this.flush()

  constructor(options: InvalidationClientOptions) {
    this.#o = resolveClientOptions(options, process.env)
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
          new TypeError(
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
            new TypeError('cachegraph/client: a tag must be a non-empty string'),
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
    this.#unhook()
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
    if (!this.#hooked) {
      this.#hooked = true
      process.on('beforeExit', this.#onBeforeExit)
    }
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
        await this.#send(batch)
      }
    } catch {
      // #send reports its own failures; nothing else here can fail.
    } finally {
      this.#running = false
      this.#unhook()
      for (const resolve of this.#waiters.splice(0)) resolve()
    }
  }

  async #send(items: Invalidation[]): Promise<void> {
    const body = JSON.stringify(encode(items))
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (this.#o.apiKey !== undefined) headers['x-api-key'] = this.#o.apiKey
    for (let attempt = 1; ; attempt++) {
      let error: Error
      let retryable: boolean
      try {
        const response = await fetch(this.#o.url, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.timeout(this.#o.timeout),
        })
        const text = await response.text().catch(() => '')
        if (response.ok) {
          const answer = { items, status: response.status, attempts: attempt, body: parsed(text) }
          this.#events.emit('sent', answer)
          return
        }
        error = new Error(
          `cachegraph/client: the service answered ${response.status}: ${text.slice(0, 200)}`,
        )
        retryable = response.status >= 500
      } catch (cause) {
        const reason =
          cause instanceof Error && cause.name === 'TimeoutError'
            ? `no answer within ${this.#o.timeout} ms`
            : describe(cause)
        error = new Error(`cachegraph/client: cannot reach ${this.#o.url}: ${reason}`, { cause })
        retryable = true
      }
      this.#events.emit('error', { error, items })
      if (!retryable) return this.#drop(items, 'rejected', error)
      if (attempt > this.#o.retries) return this.#drop(items, 'failed', error)
      const ceiling = Math.min(this.#o.maxDelay, this.#o.minDelay * 2 ** (attempt - 1))
      // Half fixed, half random: spread out, yet never hammering a restarting service.
      const delayMs = Math.round(ceiling / 2 + Math.random() * (ceiling / 2))
      this.#events.emit('retry', { items, attempt, delayMs, error })
      await this.#wait(delayMs)
    }
  }

  /** A timer that keeps the process alive only while someone awaits `flush()`. */
  #wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#timer = setTimeout(() => {
        this.#timer = undefined
        resolve()
      }, ms)
      if (this.#waiters.length === 0) this.#timer.unref()
    })
  }

  #drop(items: Invalidation[], reason: ClientEvents['dropped']['reason'], error: Error): void {
    this.#events.emit('dropped', { items, reason, error })
    if (this.#events.has('dropped') || this.#warned.has(reason)) return
    // Nobody listens: say it once per reason rather than lose invalidations silently.
    this.#warned.add(reason)
    process.emitWarning(
      `${error.message} (${reason}; listen to 'dropped' to handle it)`,
      'CachegraphClientWarning',
    )
  }

  #unhook(): void {
    if (!this.#hooked || this.#running || this.#queue.size > 0) return
    this.#hooked = false
    process.off('beforeExit', this.#onBeforeExit)
  }
}

/** One entity alone: the seed's body. Otherwise a list: entities in the seed's shape, then `{ tags }`. */
function encode(items: readonly Invalidation[]): unknown {
  const entities: unknown[] = []
  const tags: string[] = []
  for (const item of items) {
    if ('tag' in item) tags.push(item.tag)
    else entities.push({ entity_id: item.entityId, entity_type: item.entityType })
  }
  const list = tags.length > 0 ? [...entities, { tags }] : entities
  return list.length === 1 ? list[0] : list
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause
  if (typeof cause?.code === 'string') return cause.code
  if (typeof cause?.message === 'string') return cause.message
  return error instanceof Error ? error.message : String(error)
}

/** A service's answer as JSON when it is, else its text (servers other than cachegraph's). */
function parsed(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return text
  }
}
