import type { Cache, CacheEventName, CacheEvents, FleetAck } from '../../index.js'
import { snakeCase } from '../admin/snake-case.js'
import { frame, retryFrame, shownTags } from './sse.js'

/** Limits of the event streams of one admin API. */
export interface EventHubOptions {
  /**
   * A `stats` event goes to every stream this often, in ms. It feeds the page's chart and is the
   * heartbeat too: a stream is never silent long enough for a proxy to close it as idle (nginx
   * and most load balancers wait 60 s).
   * @default 2_000
   */
  tickMs?: number
  /** Streams open at once; one more answers 503. @default 32 */
  maxStreams?: number
  /**
   * Bytes queued for one stream at most. Past it, events are dropped and the next one that fits
   * is preceded by a `gap` event saying how many were lost: a slow or stalled client never makes
   * the server buffer without limit.
   * @default 262_144 (256 KB)
   */
  queueBytes?: number
  /**
   * A stream whose queue stayed full for this many ticks in a row is closed (its client stopped
   * reading; an `EventSource` that comes back reconnects on its own).
   * @default 15
   */
  stallTicks?: number
}

interface Subscriber {
  controller: ReadableStreamDefaultController<Uint8Array>
  dropped: number
  stalled: number
}

/**
 * The live feed behind `GET {prefix}/events`: the cache's invalidations (its own and the bus's),
 * acknowledgements, bus trust and circuit changes, and stats — fanned out to every open stream.
 * It listens to the cache only while a stream is open, and ends every stream when the cache or
 * the admin API is closed.
 */
export class EventHub {
  readonly #cache: Cache
  readonly #tickMs: number
  readonly #maxStreams: number
  readonly #queueBytes: number
  readonly #stallTicks: number
  readonly #streams = new Set<Subscriber>()
  #timer: NodeJS.Timeout | undefined
  #closed = false

  constructor(cache: Cache, options: EventHubOptions = {}) {
    this.#cache = cache
    this.#tickMs = options.tickMs ?? 2_000
    this.#maxStreams = options.maxStreams ?? 32
    this.#queueBytes = options.queueBytes ?? 262_144
    this.#stallTicks = options.stallTicks ?? 15
  }

  /** Streams open right now. */
  get size(): number {
    return this.#streams.size
  }

  /** A new stream, or undefined when closed or at `maxStreams`. */
  open(): ReadableStream<Uint8Array> | undefined {
    if (this.#closed || this.#streams.size >= this.#maxStreams) return undefined
    let subscriber: Subscriber | undefined
    return new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          subscriber = { controller, dropped: 0, stalled: 0 }
          if (this.#streams.size === 0) this.#listen()
          this.#streams.add(subscriber)
          controller.enqueue(retryFrame(2_000))
          this.#send(subscriber, frame('hello', this.#hello()))
          this.#send(subscriber, this.#statsFrame())
        },
        cancel: () => {
          if (subscriber !== undefined) this.#drop(subscriber)
        },
      },
      { highWaterMark: this.#queueBytes, size: (chunk) => chunk.byteLength },
    )
  }

  /** How the fleet acknowledged step `seq` (an `ack: true` invalidation made through this API). */
  ack(seq: number, fleet: FleetAck): void {
    this.#publish(
      frame('ack', {
        seq,
        members: fleet.members,
        acked: fleet.acked,
        late: fleet.late.slice(0, 50),
        waited_ms: fleet.waitedMs,
      }),
    )
  }

  /** Ends every stream and refuses new ones. Idempotent. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    for (const subscriber of [...this.#streams]) {
      this.#drop(subscriber)
      try {
        subscriber.controller.close()
      } catch {
        // Already errored or cancelled by its reader.
      }
    }
  }

  #hello() {
    return { pid: process.pid, namespace: this.#cache.name, store: this.#cache.storeName ?? null }
  }

  #statsFrame(): Uint8Array {
    return frame('stats', { at: Date.now(), ...(snakeCase(this.#cache.stats()) as object) })
  }

  /** Queues `chunk` unless the stream's queue is full; the first to fit after losses says so. */
  #send(subscriber: Subscriber, chunk: Uint8Array): void {
    const { controller } = subscriber
    if ((controller.desiredSize ?? 0) < chunk.byteLength) {
      subscriber.dropped++
      return
    }
    if (subscriber.dropped > 0) {
      controller.enqueue(frame('gap', { dropped: subscriber.dropped }))
      subscriber.dropped = 0
    }
    controller.enqueue(chunk)
  }

  #publish(chunk: Uint8Array): void {
    for (const subscriber of this.#streams) this.#send(subscriber, chunk)
  }

  #tick(): void {
    const stats = this.#statsFrame()
    for (const subscriber of [...this.#streams]) {
      this.#send(subscriber, stats)
      // Still losing events, even this tick's stats: its client is not keeping up.
      subscriber.stalled = subscriber.dropped > 0 ? subscriber.stalled + 1 : 0
      if (subscriber.stalled >= this.#stallTicks) {
        this.#drop(subscriber)
        // error(), not close(): a close would wait for the full queue to be read first.
        subscriber.controller.error(new Error('cachegraph: the event stream was not read'))
      }
    }
  }

  #drop(subscriber: Subscriber): void {
    if (!this.#streams.delete(subscriber) || this.#streams.size > 0) return
    this.#unlisten()
  }

  readonly #listeners: { [E in CacheEventName]?: (payload: CacheEvents[E]) => void } = {
    invalidate: ({ tags, seq, stale }) =>
      this.#publish(
        frame('invalidation', {
          seq,
          ...shownTags(tags),
          stale,
          source: 'local',
          pid: process.pid,
          at: Date.now(),
        }),
      ),
    // origin: the member id of the process that sent it, as its bus message says.
    'bus:invalidate': ({ tags, seq, stale, origin }) =>
      this.#publish(
        frame('invalidation', {
          seq,
          ...shownTags(tags),
          stale,
          source: 'bus',
          origin,
          at: Date.now(),
        }),
      ),
    delete: ({ keys }) =>
      this.#publish(
        frame('delete', { keys: keys.slice(0, 20), key_count: keys.length, at: Date.now() }),
      ),
    'bus:trusted': ({ seq }) => this.#publish(frame('bus', { trusted: true, seq })),
    'bus:distrusted': ({ reason }) => this.#publish(frame('bus', { trusted: false, reason })),
    'store:circuit': ({ state }) => this.#publish(frame('circuit', { state })),
    'store:reset': ({ epoch, seq }) => this.#publish(frame('reset', { epoch, seq })),
    // An open response would keep the process, and a server's graceful close, waiting.
    close: () => this.close(),
  }

  #listen(): void {
    for (const [name, listener] of Object.entries(this.#listeners)) {
      this.#cache.on(name as CacheEventName, listener as () => void)
    }
    this.#timer = setInterval(() => this.#tick(), this.#tickMs)
    this.#timer.unref()
  }

  #unlisten(): void {
    for (const [name, listener] of Object.entries(this.#listeners)) {
      this.#cache.off(name as CacheEventName, listener as () => void)
    }
    clearInterval(this.#timer)
    this.#timer = undefined
  }
}
