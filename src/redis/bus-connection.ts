/**
 * One cache's side of a Redis bus (`redisBus()` in bus.ts makes it): its subscriber connection,
 * its membership records, its acknowledgement requests and answers, and the replay of the log.
 */
import { randomBytes } from 'node:crypto'

import { type Cluster, Redis, type RedisOptions } from 'ioredis'

import {
  type BusConnection,
  type BusHandlers,
  type BusMessage,
  type FleetAsked,
  MEMBER_IDLE_RENEW_MS,
  MEMBER_LISTED_SILENCES,
  parseBusMessage,
} from '../bus/bus.js'
import type { StoreAckRequest } from '../stores/store.js'
import { sendAnswer } from './ack-answers.js'
import type { RedisClusterStore } from './cluster.js'
import { ACK_REQUEST, JOIN, LEAVE } from './fleet-scripts.js'
import { ackChannel, ackWaitsKey, slotKeys } from './keys.js'
import { runScript, script } from './runner.js'
import { HEARTBEAT } from './scripts.js'
import { RedisStore } from './store.js'

/** Where the subscriber connects: `RedisBusOptions.url` and `.redis`. */
export interface SubscriberOptions {
  url?: string
  redis?: RedisOptions
}

const HEARTBEAT_SCRIPT = script(HEARTBEAT)
const JOIN_SCRIPT = script(JOIN)
const ACK_REQUEST_SCRIPT = script(ACK_REQUEST)
const LEAVE_SCRIPT = script(LEAVE)
/** Replay reads the log newest first, this many a page, and gives up past `MAX_REPLAY`. */
const REPLAY_PAGE = 500
const MAX_REPLAY = 20_000

export class RedisBusConnection implements BusConnection {
  readonly clientName: string
  readonly memberId: string
  readonly #store: RedisStore | RedisClusterStore
  readonly #handlers: BusHandlers
  readonly #subscriber: Redis | Cluster
  readonly #channel: string
  readonly #log: string
  /** Acknowledgement requests of every member, and the answers to this one's. */
  readonly #ackRequests: string
  readonly #acks: string
  readonly #members: string
  /** `{prefix}:seq`: routes the heartbeat script to the state's slot. */
  readonly #seqKey: string
  readonly #maxSilenceMs: number
  /** When the last join went through (this clock): the record is there unless it was lost. */
  #joinedAt = -Infinity
  /** The score of this member's record by its last join (the server's clock). */
  #joinScore = -Infinity
  #closed = false

  constructor(
    store: RedisStore | RedisClusterStore,
    handlers: BusHandlers,
    options: SubscriberOptions,
    maxSilenceMs: number,
  ) {
    this.#store = store
    this.#handlers = handlers
    this.#maxSilenceMs = maxSilenceMs
    const keys = slotKeys(store.prefix)
    this.#seqKey = keys.seq
    this.#channel = keys.bus
    this.#log = keys.log
    this.#members = keys.members
    this.#ackRequests = keys.ackRequests
    this.clientName = `cachegraph-bus-${process.pid}-${randomBytes(4).toString('hex')}`
    this.memberId = this.clientName
    // The steps this process sends name it in their bus messages.
    store.origin = this.memberId
    this.#acks = this.#ackChannel(this.memberId)
    const own: RedisOptions = {
      connectionName: this.clientName,
      // Subscribing again is this connection's job: it reports the moment it is live again.
      autoResubscribe: false,
      maxRetriesPerRequest: null,
      ...options.redis,
    }
    this.#subscriber =
      options.url !== undefined
        ? new Redis(options.url, own)
        : store instanceof RedisStore
          ? store.client.duplicate(own)
          : store.client.duplicate()
    const subscriber = this.#subscriber
    subscriber.on('error', (error: unknown) => handlers.error(error))
    subscriber.on('close', () => {
      if (!this.#closed) handlers.lost('closed')
    })
    subscriber.on('ready', () => void this.#subscribe())
    subscriber.on('message', (channel: string, text: string) => {
      if (channel === this.#ackRequests) return this.#onAckRequest(text)
      if (channel === this.#acks) return this.#onAck(text)
      if (channel !== this.#channel) return
      const steps = parseBusMessage(text)
      if (steps === undefined) {
        handlers.error(new Error(`cachegraph: malformed bus message on ${channel}`))
      } else {
        for (const step of steps) handlers.message(step)
      }
    })
  }

  /** The store this connection serves (its member records live under the store's prefix). */
  get store(): RedisStore | RedisClusterStore {
    return this.#store
  }

  /** `requester seq epoch asked since` */
  #onAckRequest(text: string): void {
    const [requester, seqText, epoch, askedText, sinceText] = text.split(' ')
    const [seq, asked, since] = [Number(seqText), Number(askedText), Number(sinceText)]
    if (
      requester === undefined ||
      epoch === undefined ||
      ![seq, asked, since].every(Number.isSafeInteger)
    ) {
      return this.#handlers.error(new Error('cachegraph: malformed acknowledgement request'))
    }
    // Listed only when its last join is within the listing (answers are counted, not named). A
    // join that went through but has not replied yet may have been listed: the request then
    // waits maxSilence for this member and names it late.
    if (requester === this.memberId || this.#joinScore < since) return
    this.#handlers.ackRequested(requester, seq, epoch, asked)
  }

  /** `seq`: every member asked for it answered. */
  #onAck(text: string): void {
    const seq = Number(text)
    if (Number.isSafeInteger(seq)) this.#handlers.acked(seq)
  }

  async #subscribe(): Promise<void> {
    try {
      // One subscription, one order: a step's message reaches every member before any request
      // to acknowledge it (the request is published after the step was recorded).
      await this.#subscriber.subscribe(this.#channel, this.#ackRequests, this.#acks)
      if (!this.#closed) this.#handlers.subscribed()
    } catch (error) {
      // The connection dropped again meanwhile; its next 'ready' subscribes again.
      this.#handlers.error(error)
    }
  }

  async heartbeat(): Promise<void> {
    await runScript(
      this.#store.client,
      HEARTBEAT_SCRIPT,
      [this.#seqKey],
      [this.#store.prefix, this.memberId],
    )
  }

  async join(): Promise<number | undefined> {
    const sentAt = Date.now()
    // Records are forgotten once they have not been listed for as long again.
    const [score, seq] = (await runScript(
      this.#store.client,
      JOIN_SCRIPT,
      [this.#members, this.#seqKey],
      [
        this.memberId,
        String(Math.max(this.#maxSilenceMs * MEMBER_LISTED_SILENCES, MEMBER_IDLE_RENEW_MS) * 3),
      ],
    )) as [number, string | null]
    this.#joinedAt = Math.max(this.#joinedAt, sentAt)
    this.#joinScore = Math.max(this.#joinScore, score)
    return typeof seq === 'string' ? Number(seq) : undefined
  }

  /** What a request asks (the store sends it with the step: `StoreInvalidateOptions.ack`). */
  ackRequest(): StoreAckRequest {
    return {
      requester: this.memberId,
      listedWithinMs: this.#maxSilenceMs * MEMBER_LISTED_SILENCES,
      // The requester waits maxSilence at most; then it reads who answered.
      keepMs: this.#maxSilenceMs * 3,
      // Its own record is there unless the records were lost: it joined within the listing time.
      expectSelf: Date.now() - this.#joinedAt < this.#maxSilenceMs * MEMBER_LISTED_SILENCES,
    }
  }

  /** A request for a step already recorded (one the store did not send with it). */
  async requestAcks(seq: number, epoch: string): Promise<FleetAsked> {
    const { requester, listedWithinMs, keepMs, expectSelf } = this.ackRequest()
    const [sure, ...asked] = (await runScript(
      this.#store.client,
      ACK_REQUEST_SCRIPT,
      [this.#members],
      [
        this.#store.prefix,
        requester,
        String(seq),
        epoch,
        String(listedWithinMs),
        String(keepMs),
        expectSelf ? '1' : '0',
      ],
    )) as string[]
    return { asked, sure: sure === '1' }
  }

  async answered(seq: number): Promise<string[]> {
    const answers = ackWaitsKey(this.#store.prefix, this.memberId, seq)
    return this.#store.client.lrange(answers, 1, -1)
  }

  /**
   * One `RPUSHX` per request, in one round trip per tick for every bus on this store client
   * (ack-answers.ts).
   */
  ack(requester: string, seq: number, asked: number): Promise<void> {
    return sendAnswer(this.#store.client, {
      key: ackWaitsKey(this.#store.prefix, requester, seq),
      channel: this.#ackChannel(requester),
      seq,
      asked,
      member: this.memberId,
    })
  }

  /** Where `member` hears the answers to its acknowledgement requests. */
  #ackChannel(member: string): string {
    return ackChannel(this.#store.prefix, member)
  }

  /** Reads the log newest first until it reaches `after`; checks the steps follow on unbroken. */
  async replay(after: number, epoch: string): Promise<BusMessage[] | undefined> {
    const found: BusMessage[] = []
    let end = '+'
    for (;;) {
      const rows = (await this.#store.client.xrevrange(
        this.#log,
        end,
        '-',
        'COUNT',
        REPLAY_PAGE,
      )) as [string, string[]][]
      for (const [id, fields] of rows) {
        end = `(${id}`
        // One entry per script run: the steps it published, newest last (none when all were quiet).
        const text = fields[1] ?? ''
        const steps = parseBusMessage(text)
        if (steps === undefined) return undefined
        for (let i = steps.length - 1; i >= 0; i--) {
          const message = steps[i] as BusMessage
          if (message.epoch !== epoch) return undefined
          if (message.seq <= after) return chained(found.reverse(), after)
          found.push(message)
        }
        const [last, entryEpoch] = text.split('\n', 2)
        if (entryEpoch !== epoch) return undefined
        if (Number(last) <= after) return chained(found.reverse(), after)
      }
      if (rows.length < REPLAY_PAGE || found.length >= MAX_REPLAY) {
        return chained(found.reverse(), after)
      }
    }
  }

  async close(): Promise<void> {
    this.#closed = true
    // Leaving the fleet: acknowledgement requests stop waiting for this process at once (one
    // that exits without close() is waited for until maxSilence, and listed for
    // MEMBER_LISTED_SILENCES × maxSilence). The mark left behind tells the next member to join
    // that the records were emptied, not lost (fleet-scripts.ts). Bounded: a store that does not
    // answer must not hold up the close.
    const leave = runScript(
      this.#store.client,
      LEAVE_SCRIPT,
      [this.#members],
      [this.memberId, String(Date.now())],
    ).catch(() => 0)
    await Promise.race([leave, new Promise((resolve) => setTimeout(resolve, 100).unref())])
    this.#subscriber.disconnect()
  }
}

/**
 * The steps published after `after`, in order, or undefined when one is missing: each must follow
 * on from the one before (its `after`, the step published before it; the steps between were quiet).
 */
function chained(messages: BusMessage[], after: number): BusMessage[] | undefined {
  let through = after
  for (const message of messages) {
    if (message.after > through) return undefined
    through = message.seq
  }
  return messages
}
