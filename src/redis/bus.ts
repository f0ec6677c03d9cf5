import { type RedisOptions } from 'ioredis'

import { type Bus, type BusConnection, type BusHandlers, type BusMember } from '../bus/bus.js'
import { invalidOption } from '../errors.js'
import type { Store } from '../stores/store.js'
import { toMs } from '../util/duration.js'
import type { Duration } from '../util/duration.js'
import { RedisBusConnection } from './bus-connection.js'
import { RedisClusterStore } from './cluster.js'
import { isListening, pidOf, readMembers } from './members.js'
import { RedisStore } from './store.js'

/** Options of {@link redisBus}. */
export interface RedisBusOptions {
  /**
   * Where to subscribe. Default: a new connection with the store client's own options (the bus
   * needs a connection of its own: a subscribed connection can do nothing else).
   */
  url?: string
  /** Extra ioredis options for the subscriber connection. */
  redis?: RedisOptions
  /**
   * How long a process may go without hearing the bus before it stops trusting its L1. Also the
   * bound on how stale another process's L1 can be when the bus is broken.
   * @default '1s'
   */
  maxSilence?: Duration
}

/**
 * A Redis pub/sub bus. Every step of the store's sequence is published by the store's own scripts
 * on `{prefix}:bus` (so the messages are contiguous and in order) and kept for a while in the
 * stream `{prefix}:log`, from which a process that missed some replays them.
 */
export class RedisBus implements Bus {
  readonly name = 'redis'
  readonly maxSilenceMs: number
  readonly #options: RedisBusOptions
  #connection: RedisBusConnection | undefined

  constructor(options: RedisBusOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw invalidOption('bus', 'redisBus() options must be an object')
    }
    for (const key of Object.keys(options)) {
      if (!['url', 'redis', 'maxSilence'].includes(key)) {
        throw invalidOption(`bus.${key}`, 'is not an option of redisBus')
      }
    }
    if (options.url !== undefined && typeof options.url !== 'string') {
      throw invalidOption('bus.url', 'must be a redis:// URL')
    }
    this.maxSilenceMs = toMs(options.maxSilence ?? '1s', 'bus.maxSilence')
    if (this.maxSilenceMs < 20 || this.maxSilenceMs === Infinity) {
      throw invalidOption('bus.maxSilence', 'must be a finite duration of at least 20 ms')
    }
    this.#options = options
  }

  /** The client name of the subscriber connection (`CLIENT LIST`), once connected. */
  get clientName(): string | undefined {
    return this.#connection?.clientName
  }

  /** The fleet's members (`cache.members()`), from the records members.ts reads. */
  async members(): Promise<BusMember[]> {
    const connection = this.#connection
    if (connection === undefined) return []
    const records = await readMembers(connection.store)
    const newest = Math.max(...records.map((record) => record.seenAt))
    return records.map(({ id, seenAt }) => {
      const pid = pidOf(id)
      return {
        id,
        ...(pid === undefined ? {} : { pid }),
        seenAt,
        self: id === connection.memberId,
        listening: isListening(seenAt, newest, this.maxSilenceMs),
      }
    })
  }

  /** Closes the subscriber connection (the cache's `close()` does this too). */
  disconnect(): void {
    void this.#connection?.close()
  }

  connect(outer: Store, handlers: BusHandlers): BusConnection {
    // A wrapper (a fault injector, say) keeps the Redis store it wraps as `inner`.
    let store: Store | undefined = outer
    while (store !== undefined && !isRedisStore(store)) store = (store as { inner?: Store }).inner
    if (store === undefined) {
      throw invalidOption('bus', `a Redis bus needs a Redis store, not '${outer.name}'`)
    }
    if (this.#connection !== undefined) {
      throw invalidOption('bus', 'this redisBus() is already used by another cache: make one each')
    }
    this.#connection = new RedisBusConnection(store, handlers, this.#options, this.maxSilenceMs)
    return this.#connection
  }
}

function isRedisStore(store: Store): store is RedisStore | RedisClusterStore {
  return store instanceof RedisStore || store instanceof RedisClusterStore
}

/**
 * Creates the Redis invalidation bus, for `createCache({ store: redisStore(...), bus })`. One
 * bus per cache.
 *
 * @example
 * import { redisBus, redisStore } from 'cachegraph/redis'
 * const cache = createCache({ store: redisStore({ url }), bus: redisBus({ maxSilence: '1s' }) })
 */
export function redisBus(options?: RedisBusOptions): RedisBus {
  return new RedisBus(options)
}
