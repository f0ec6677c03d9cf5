/**
 * The contract of an invalidation bus: a transport that hands every process the sequence steps
 * of its shared store, in order. The engine side (`cache/fleet-sync.ts`) decides what to trust;
 * a transport only delivers, reports its connection, and answers two requests.
 */
import type { FleetAsked, Store, StoreAckRequest } from '../stores/store.js'

export type { FleetAsked }

/**
 * One step of the store's sequence, or a heartbeat. The store announces the steps one call took
 * (a busy writer's calls of one tick are one call) in one message; the transport hands them over
 * one by one, in order ({@link parseBusMessage}).
 */
export interface BusMessage {
  seq: number
  epoch: string
  /** `hard` / `soft`: an invalidation (or a superseding write) of `tags` at `seq`. */
  kind: 'hard' | 'soft' | 'heartbeat'
  tags: readonly string[]
  /** Who took the step (or asked for the heartbeat): that process's member id on the bus. */
  origin: string
  /**
   * The step published before this one (for a heartbeat: the last step published): every step
   * between the two was quiet, a superseding `set` nobody needs to hear of
   * (docs/invalidation.md, "Quiet steps"). So this message follows on from a process that applied
   * every step up to `after`.
   */
  after: number
}

/** What a transport reports to the cache it serves. */
export interface BusHandlers {
  /** A message, in the order the store published them. */
  message(message: BusMessage): void
  /** The subscription is live (again): nothing published from now on will be missed. */
  subscribed(): void
  /** The subscription dropped: messages may be missed until `subscribed` comes again. */
  lost(reason: string): void
  /** A failure worth reporting (the transport keeps trying). */
  error(error: unknown): void
  /**
   * Another process (`requester`) waits until the `asked` members it listed have applied step
   * `seq` of `epoch`: call {@link BusConnection.ack} once this process has. Arrives after the step
   * itself (the request is published once the step is recorded, on the same subscription).
   */
  ackRequested(requester: string, seq: number, epoch: string, asked: number): void
  /** Every member asked to acknowledge step `seq` (this process's own request) has applied it. */
  acked(seq: number): void
}

/** A transport bound to one cache. */
export interface BusConnection {
  /** This process's name among the members of the fleet. */
  readonly memberId: string
  /**
   * Says this process is alive and answers acknowledgement requests: requests list it for
   * {@link MEMBER_LISTED_SILENCES} × `maxSilence` after its last join. Resolves with the store's
   * sequence at that moment (undefined before the first step): steps a later request waits for
   * are above it.
   */
  join(): Promise<number | undefined>
  /**
   * Asks every listed member to acknowledge step `seq` of `epoch`; resolves with the members asked
   * (this process left out), read at the moment the request went out. `acked(seq)` comes once
   * as many answers as members asked have come (it may come again: check with `answered`).
   */
  requestAcks(seq: number, epoch: string): Promise<FleetAsked>
  /**
   * Optional: the same request, for the store to send with the invalidation's step itself
   * (`StoreInvalidateOptions.ack`) — one round trip less for the asker, and the fleet wakes once
   * for the step and the request. When the store's answer has no `asked`, {@link requestAcks}
   * asks instead.
   */
  ackRequest?(): StoreAckRequest
  /** The members that answered this process's request for step `seq` so far. */
  answered(seq: number): Promise<string[]>
  /**
   * Tells `requester`, whose request asked `asked` members, that this process has applied step
   * `seq` (answers may be batched).
   */
  ack(requester: string, seq: number, asked: number): Promise<void>
  /** Asks the store to publish its current `{ seq, epoch }` on the bus (a heartbeat). */
  heartbeat(): Promise<void>
  /**
   * Messages the store logged with a sequence above `after`, oldest first; undefined when the log
   * no longer reaches back that far (the caller then starts over from what it can vouch for).
   */
  replay(after: number, epoch: string): Promise<BusMessage[] | undefined>
  close(): Promise<void>
}

/** One process of the fleet, as its bus records it (`cache.members()`). */
export interface BusMember {
  /** Its name on the bus (a Redis bus: `cachegraph-bus-<pid>-<random>`). */
  id: string
  /** Its process id, when the bus records one. */
  pid?: number
  /** When it last said it was alive (ms since the epoch, by the store's clock). */
  seenAt: number
  /** This cache's own connection. */
  self: boolean
  /**
   * It hears the fleet's invalidations: its record was renewed as often as a member that listens
   * renews it, idle or not (within 2 × `MEMBER_IDLE_RENEW_MS`, or 2 × `maxSilence` when longer,
   * of the newest record, by the store's clock). The one rule for "who listens" (`heard_by`).
   */
  listening: boolean
}

/**
 * How long a member stays listed after its last join, in `maxSilence`s. The engine renews a
 * record every 5 while it serves reads and trusts its L1 only within 10 of the last (the rest is
 * the margin for round trips and clocks); an idle process lets its record lapse.
 */
export const MEMBER_LISTED_SILENCES = 15

/**
 * An idle process still renews its record this often (ms), so the fleet's records show who
 * listens (`cache.members()`, `heard_by`); acknowledged invalidations do not wait for it (its L1
 * serves nothing before a read woke it, and the wake joins first).
 */
export const MEMBER_IDLE_RENEW_MS = 60_000

/** A bus as passed to `createCache({ bus })`. */
export interface Bus {
  /** `'redis'`, for logs and `inspect()`. */
  readonly name: string
  /**
   * The fleet's members as this bus records them, newest first (bounded); none before it is
   * connected. Optional: a bus that keeps no records lists nobody.
   */
  members?(): Promise<BusMember[]>
  /** How long without a message before a process stops trusting its L1, in ms. */
  readonly maxSilenceMs: number
  /**
   * Binds the bus to the cache's store and starts listening. Throws when the store is not one
   * this bus can serve (a Redis bus needs a Redis store), or when the bus is already bound.
   */
  connect(store: Store, handlers: BusHandlers): BusConnection
}

/**
 * Parses the wire form `last \n epoch \n kinds \n origin \n after \n [tags of each step]` into
 * the steps it publishes, in order: `kinds` has one letter per step (`h` hard, `s` soft, `-` quiet:
 * taken but not published, tags `[]`) and the steps are `last - kinds.length + 1 .. last`; `after`
 * is the step published before the message. `b` is a heartbeat (no step, `[]`; `after`: the last
 * step published). Undefined when malformed.
 */
export function parseBusMessage(text: string): BusMessage[] | undefined {
  const a = text.indexOf('\n')
  const b = text.indexOf('\n', a + 1)
  const c = text.indexOf('\n', b + 1)
  const d = text.indexOf('\n', c + 1)
  const e = text.indexOf('\n', d + 1)
  if (a < 0 || b < 0 || c < 0 || d < 0 || e < 0) return undefined
  const last = Number(text.slice(0, a))
  const epoch = text.slice(a + 1, b)
  const kinds = text.slice(b + 1, c)
  const origin = text.slice(c + 1, d)
  let after = Number(text.slice(d + 1, e))
  if (!Number.isSafeInteger(last) || !Number.isSafeInteger(after) || kinds.length === 0) {
    return undefined
  }
  if (kinds === 'b') return [{ seq: last, epoch, kind: 'heartbeat', tags: [], origin, after }]
  let lists: unknown
  try {
    lists = JSON.parse(text.slice(e + 1))
  } catch {
    return undefined
  }
  if (!Array.isArray(lists) || lists.length !== kinds.length) return undefined
  const first = last - kinds.length + 1
  const steps: BusMessage[] = []
  for (let i = 0; i < kinds.length; i++) {
    const letter = kinds[i] as string
    const tags: unknown = lists[i]
    if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) return undefined
    if (letter === '-') continue
    const kind = KINDS.get(letter)
    if (kind === undefined) return undefined
    steps.push({ seq: first + i, epoch, kind, tags, origin, after })
    after = first + i
  }
  return steps
}

const KINDS = new Map<string, BusMessage['kind']>([
  ['h', 'hard'],
  ['s', 'soft'],
])
