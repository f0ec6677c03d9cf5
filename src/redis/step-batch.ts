import type {
  StoreCheckedEntry,
  StoreEntry,
  StoreInvalidateOptions,
  StoreInvalidateResult,
  StoreWriteResult,
} from '../stores/store.js'
import {
  checkedSize,
  inTurn,
  MAX_PART_BYTES,
  MAX_PART_ITEMS,
  parts,
} from '../stores/batch-limits.js'
import { mergeWrites } from './reply.js'
import { pipelined } from '../util/tick-batch.js'

/** One call of the steps script (steps-script.ts `STEPS`): its arguments and its size. */
export interface StepCall {
  /** The call's part of ARGV: `'i' | 's' | 'w' | 'c'` and what follows it. */
  args: readonly string[]
  /** Entries or tags it carries (a batch stays within `MAX_PART_ITEMS`). */
  items: number
  /** Rough bytes of keys, tags and payloads (a batch stays within about `MAX_PART_BYTES`). */
  bytes: number
}

/** What a call gets back: the epoch the script ran in and the call's own reply. */
export interface StepReply {
  epoch: string
  reply: unknown
}

interface Waiter {
  call: StepCall
  resolve: (reply: StepReply) => void
  reject: (error: unknown) => void
}

/** Calls in one tick from which they go out as two runs (each then carries at least 16 steps). */
export const PIPELINE_STEPS_FROM = 32

/** Subscribers of the bus channel up to which a tick may go out as two runs (two messages). */
export const PIPELINE_LISTENERS = 4

/**
 * Merges the writes and invalidations sent in one tick into one run of the steps script, in the
 * order they were sent. A busy writer's consecutive steps then share one round trip, one move of
 * the sequence and its markers, and one bus message and log entry for all of them: the cost of a
 * step no longer carries a message to every process of the fleet. Calls merge up to the limits of
 * one part (`batch-limits.ts`); past them the batch goes out as several runs, in order (each its
 * own range of steps and its own message). A failed run fails every call in it.
 *
 * From {@link PIPELINE_STEPS_FROM} calls in a tick, they go out as two runs of half each when
 * the last run's message reached at most {@link PIPELINE_LISTENERS} subscribers: the writer
 * prepares and settles one run's calls while Redis executes the other. With one run per tick,
 * writer and server take turns (the writer sat idle a quarter of its time with 64 sets in
 * flight); two runs took about 1.5 times the sets per second. But the second run is a second
 * message to every subscriber: with 8 processes listening it gained nothing, with 32 it cost
 * a third of the fleet's sets per second. So a fleet that listens gets one run per tick — unless
 * the last run's steps were all quiet (its message reached nobody: a writer of keys nobody else
 * holds, whatever the fleet's size).
 */
export class StepBatch {
  readonly #run: (args: string[], mayRetry: () => boolean) => Promise<unknown>
  #pending: Waiter[] | undefined
  /** Runs sent so far: a run is the last sent while this is still its own number. */
  #sent = 0
  /** Subscribers the last run's message reached (the script's answer); unknown before one. */
  #listeners = Infinity

  /**
   * @param run runs the steps script with the merged calls' arguments (after prefix and origin).
   *   `mayRetry` says whether a run the server could not start (`NOSCRIPT`) may be sent again:
   *   only while no run was sent after it. Else it fails, with its calls: a later run may have
   *   run already, and steps must never be taken out of the order they were sent in (a `set`
   *   then not stored, an invalidation replayed after what followed it: never the reverse).
   */
  constructor(run: (args: string[], mayRetry: () => boolean) => Promise<unknown>) {
    this.#run = run
  }

  send(call: StepCall): Promise<StepReply> {
    return new Promise<StepReply>((resolve, reject) => {
      if (this.#pending === undefined) {
        this.#pending = []
        // After the promise jobs of this tick: the steps they send join the batch.
        process.nextTick(() => this.#flush())
      }
      this.#pending.push({ call, resolve, reject })
    })
  }

  #flush(): void {
    const waiters = this.#pending ?? []
    this.#pending = undefined
    const most =
      this.#listeners <= PIPELINE_LISTENERS
        ? pipelined(waiters.length, Infinity, PIPELINE_STEPS_FROM)
        : Infinity
    let group: Waiter[] = []
    let items = 0
    let bytes = 0
    for (const waiter of waiters) {
      const { call } = waiter
      if (
        group.length > 0 &&
        (group.length >= most ||
          items + call.items > MAX_PART_ITEMS ||
          bytes + call.bytes > MAX_PART_BYTES)
      ) {
        this.#send(group)
        group = []
        items = 0
        bytes = 0
      }
      group.push(waiter)
      items += call.items
      bytes += call.bytes
    }
    if (group.length > 0) this.#send(group)
  }

  #send(group: readonly Waiter[]): void {
    const args: string[] = []
    for (const { call } of group) for (const arg of call.args) args.push(arg)
    const number = ++this.#sent
    this.#run(args, () => this.#sent === number).then(
      (result) => {
        const [epoch, listeners, ...replies] = result as [string, number, ...unknown[]]
        // -1: the run took no step and sent no message.
        if (listeners >= 0) this.#listeners = listeners
        group.forEach((waiter, i) => waiter.resolve({ epoch: String(epoch), reply: replies[i] }))
      },
      (error: unknown) => {
        for (const waiter of group) waiter.reject(error)
      },
    )
  }
}

/** The `'w'` or `'c'` reply of the steps script, as the store contract answers a write. */
export function writeReply({ epoch, reply }: StepReply): StoreWriteResult {
  // The common `set`'s reply: its step, stored as of it (steps-script.ts).
  if (typeof reply === 'string') {
    const seq = Number(reply)
    return { seq, epoch, written: [true], starts: [seq] }
  }
  const row = reply as (string | number)[]
  const n = Number(row[1])
  const written: boolean[] = []
  for (let i = 2; i < 2 + n; i++) written.push(row[i] === 1)
  return { seq: Number(row[0]), epoch, written, starts: row.slice(2 + n, 2 + 2 * n).map(Number) }
}

/**
 * A check of entries against the records as a call of the steps script (`'c'`): per entry its
 * tags, tag starts, start and key tag. The script notes the key tags of the entries it allows as
 * carried (a later first `set` of those keys is heard, not quiet).
 */
export function checkCall(
  entries: readonly Pick<StoreEntry, 'tags' | 'tagStarts' | 'start' | 'keyTag'>[],
  asOf: string,
): StepCall {
  const args: string[] = ['c', asOf, String(entries.length)]
  let bytes = 0
  for (const entry of entries) {
    const tags = JSON.stringify(entry.tags)
    bytes += tags.length
    args.push(
      tags,
      entry.tagStarts === undefined ? '' : JSON.stringify(entry.tagStarts),
      entry.start === undefined ? '' : String(entry.start),
      entry.keyTag ?? '',
    )
  }
  return { args, items: entries.length, bytes }
}

/**
 * `Store.check` on Redis and Redis Cluster: one `'c'` call per part, in the tick's run, the parts
 * in turn.
 */
export async function checkInParts(
  steps: StepBatch,
  entries: readonly StoreCheckedEntry[],
): Promise<StoreWriteResult> {
  const results = await inTurn(parts(entries, checkedSize), async (part) =>
    writeReply(await steps.send(checkCall(part, ''))),
  )
  return mergeWrites(results)
}

/**
 * `Store.invalidate` on Redis and Redis Cluster: one call per part of at most `batch-limits.ts`
 * tags (one step each), in the tick's run, the parts in turn; resolves with the last, which
 * carries the acknowledgement request if there is one (`options.ack`).
 */
export async function invalidateInSteps(
  steps: StepBatch,
  tags: readonly string[],
  options: StoreInvalidateOptions,
): Promise<StoreInvalidateResult> {
  const split = parts(tags, (tag) => tag.length)
  const last = split[split.length - 1]
  // Only the last part's step asks for acknowledgements.
  const { ack: _lastOnly, ...partOptions } = options
  const results = await inTurn(split, async (part) =>
    invalidateReply(await steps.send(invalidateCall(part, part === last ? options : partOptions))),
  )
  return results[results.length - 1] as StoreInvalidateResult
}

/**
 * An invalidation of `tags` as a call of the steps script: `'s'` soft, `'d'` key tags of keys
 * removed (quiet when no entry carried them), `'i'` any other; then `'a'` with its
 * acknowledgement request, if any.
 */
export function invalidateCall(
  tags: readonly string[],
  options: StoreInvalidateOptions = {},
): StepCall {
  let bytes = 0
  for (const tag of tags) bytes += tag.length
  const op = options.stale === true ? 's' : options.keys === true ? 'd' : 'i'
  const args = [op, String(tags.length), ...tags]
  const { ack } = options
  if (ack !== undefined) {
    args.push(
      'a',
      ack.requester,
      String(ack.listedWithinMs),
      String(ack.keepMs),
      ack.expectSelf ? '1' : '0',
    )
  }
  return { args, items: tags.length, bytes }
}

/**
 * The `{ seq, epoch }` an invalidation's reply gives, and whom its acknowledgement request asked
 * (`[seq, sure, ...members]`).
 */
export function invalidateReply({ epoch, reply }: StepReply): StoreInvalidateResult {
  const row = reply as string[]
  const result: StoreInvalidateResult = { seq: Number(row[0]), epoch }
  if (row.length > 1) result.asked = { sure: row[1] === '1', asked: row.slice(2) }
  return result
}
