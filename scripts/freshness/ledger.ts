/**
 * The judge: is a value a reader got older than a write whose `invalidate()` had resolved before
 * the read began, and if so, does the consistency model (SPEC §1, docs/invalidation.md) allow it?
 *
 * Allowed: a value served by this process's own L1 (or by a load in flight in this process that
 * the read joined) before the bus delivered the invalidation here — never while the process was
 * distrusted, never longer than `maxSilence` after the invalidation resolved. A process without a
 * bus is not told at all: its L1 may be stale until the entry's ttl (docs/invalidation.md).
 * Everything else stale is forbidden: from the shared tier, from a loader, from an L1 that had
 * heard.
 *
 * "Delivered here" is measured by the process's bus tap (a second subscriber on the same channel,
 * see bus-tap.ts): a stale L1 read that begins more than `busSlackMs` after the tap's `settledAt`
 * for a newer invalidation of that row is one the cache should have refused. Every time the judge
 * compares is taken so that clock or delivery slack can hide a stale read, never invent one: a
 * read's start is stamped before the call, a write's resolution after `invalidate()` returned, a
 * delivery once the event loop has polled again.
 *
 * Under faults a writer's `invalidate()` may reject with `E_INVALIDATION_NOT_RECORDED`: such a
 * write enters the log only once the writer's cache has replayed it (its replay queue drained),
 * stamped then (`replayed`, no sequence): from that moment the same rules hold, except that
 * the bus receipt of the replayed step is not known, so only the `maxSilence` bound applies to
 * stale L1 reads of it.
 */
import {
  emptyOutcome,
  type Example,
  isForbidden,
  MAX_EXAMPLES,
  type Observation,
  type Outcome,
  type ReadPath,
  type Source,
  type StaleKind,
} from './outcome.js'
import type { WritePath, WriteRecord } from './protocol.js'
import { Samples } from './samples.js'

/** The writes of one row, ordered by the time their invalidation resolved. */
interface RowLog {
  times: number[]
  versions: number[]
  seqs: number[]
  replayed: boolean[]
  via: WritePath[]
  acked: boolean[]
  /** `prefixMax[i]`: the highest version among the first i + 1 writes. */
  prefixMax: number[]
}

export class Ledger {
  readonly #rows = new Map<number, RowLog>()
  /** When this process's tap heard each sequence, and when the cache had surely heard it too. */
  readonly #heard = new Map<number, { receivedAt: number; settledAt: number }>()
  readonly #window = new Samples()
  readonly #afterBus = new Samples()
  readonly #outcome = emptyOutcome()
  readonly #pid: number
  readonly #maxSilenceMs: number
  readonly #busSlackMs: number
  /** Without a bus, the only bound on this process's L1 is the ttl. */
  readonly #noBusBoundMs: number | undefined
  readonly #onExample: ((example: Example) => void) | undefined

  constructor(options: {
    pid: number
    maxSilenceMs: number
    busSlackMs: number
    /** The process has no bus: its L1 may be stale for this long (the entries' ttl). */
    noBusBoundMs?: number
    /** Called with each forbidden example kept (to attach evidence to it). */
    onExample?: (example: Example) => void
  }) {
    this.#onExample = options.onExample
    this.#pid = options.pid
    this.#maxSilenceMs = options.maxSilenceMs
    this.#busSlackMs = options.busSlackMs
    this.#noBusBoundMs = options.noBusBoundMs
  }

  /** Every write known (for the propagation figures). */
  writes(): Iterable<WriteRecord> {
    return this.#allWrites()
  }

  /** When the tap received the bus message of `seq` (shared clock). */
  receivedAt(seq: number): number | undefined {
    return this.#heard.get(seq)?.receivedAt
  }

  /** The tap heard the bus message of `seq`; by `settledAt` the cache has read it too. */
  heard(seq: number, receivedAt: number, settledAt: number): void {
    if (!this.#heard.has(seq)) this.#heard.set(seq, { receivedAt, settledAt })
  }

  add(write: WriteRecord): void {
    let log = this.#rows.get(write.row)
    if (log === undefined) {
      log = { times: [], versions: [], seqs: [], replayed: [], via: [], acked: [], prefixMax: [] }
      this.#rows.set(write.row, log)
    }
    // Batches arrive nearly in time order: the insertion point is almost always the end.
    let i = log.times.length
    while (i > 0 && (log.times[i - 1] as number) > write.resolvedAt) i--
    log.times.splice(i, 0, write.resolvedAt)
    log.versions.splice(i, 0, write.version)
    log.seqs.splice(i, 0, write.seq)
    log.replayed.splice(i, 0, write.replayed === true)
    log.via.splice(i, 0, write.via)
    log.acked.splice(i, 0, write.acked === true)
    log.prefixMax.length = i
    for (let k = i; k < log.times.length; k++) {
      const before = k === 0 ? -Infinity : (log.prefixMax[k - 1] as number)
      log.prefixMax.push(Math.max(before, log.versions[k] as number))
    }
  }

  /** Judges one observation; the caller guarantees every write resolved before it is known. */
  judge(o: Observation): void {
    const outcome = this.#outcome
    outcome.checked++
    outcome.sources[o.source]++
    const path = outcome.via[o.via]
    path.checked++
    const log = this.#rows.get(o.row)
    if (log === undefined) return
    const known = countBefore(log.times, o.startedAt)
    if (known === 0 || (log.prefixMax[known - 1] as number) <= o.version) return
    // The first write newer than the value: the read is stale since it resolved.
    const first = countAtMost(log.prefixMax, o.version)
    const lagMs = o.startedAt - (log.times[first] as number)
    let heardAt = Infinity
    log.versions.forEach((version, k) => {
      const at = version > o.version ? this.#heard.get(log.seqs[k] as number)?.settledAt : undefined
      if (at !== undefined && at < heardAt) heardAt = at
    })
    const afterBusMs = heardAt === Infinity ? undefined : o.startedAt - heardAt
    let kind = this.#classify(o.source, lagMs, afterBusMs)
    // A newer write the whole fleet acknowledged before the read began: no L1 may lag behind it.
    if ((kind === 'allowed-l1' || kind === 'allowed-flight') && ackedNewer(log, known, o.version)) {
      kind = 'forbidden-after-ack'
    }
    outcome.stale[kind]++
    if (isForbidden(kind)) path.forbidden++
    else path.allowed++
    if (kind === 'allowed-no-bus') return
    if (!isForbidden(kind)) {
      this.#window.add(lagMs)
      if (afterBusMs !== undefined) this.#afterBus.add(afterBusMs)
    } else if (outcome.examples.length < MAX_EXAMPLES) {
      const example: Example = {
        kind,
        pid: this.#pid,
        row: o.row,
        got: o.version,
        expected: log.prefixMax[known - 1] as number,
        source: o.source,
        pair: o.pair,
        via: o.via,
        lagMs,
        afterBusMs,
        startedAt: o.startedAt,
        resolvedAt: log.times[first],
        replayed: log.replayed[first],
        seq: log.seqs[first],
      }
      outcome.examples.push(example)
      this.#onExample?.(example)
    }
  }

  /** Records a stale read the caller judged itself (a writer reading its own write). */
  ownStale(example: Omit<Example, 'kind' | 'pid'> & { via: ReadPath }): void {
    this.#outcome.checked++
    this.#outcome.via[example.via].checked++
    this.#outcome.via[example.via].forbidden++
    this.#outcome.stale['forbidden-own']++
    if (this.#outcome.examples.length < MAX_EXAMPLES) {
      const kept: Example = { ...example, kind: 'forbidden-own', pid: this.#pid }
      this.#outcome.examples.push(kept)
      this.#onExample?.(kept)
    }
  }

  /** A writer's read of its own write that was fresh (not counted by source). */
  ownFresh(via: ReadPath): void {
    this.#outcome.checked++
    this.#outcome.via[via].checked++
  }

  result(): Outcome {
    return {
      ...this.#outcome,
      allowedWindow: this.#window.toJSON(),
      allowedAfterBus: this.#afterBus.toJSON(),
    }
  }

  #classify(source: Source, lagMs: number, afterBusMs: number | undefined): StaleKind {
    switch (source) {
      case 'l2':
        return 'forbidden-l2'
      case 'loader':
        return 'forbidden-loader'
      case 'l1-distrusted':
        return 'forbidden-l1-distrusted'
      case 'l1':
      case 'flight': {
        if (this.#noBusBoundMs !== undefined) {
          return lagMs > this.#noBusBoundMs ? 'forbidden-l1-too-old' : 'allowed-no-bus'
        }
        const heard = afterBusMs !== undefined && afterBusMs > this.#busSlackMs
        if (lagMs > this.#maxSilenceMs) {
          return source === 'l1' ? 'forbidden-l1-too-old' : 'forbidden-flight'
        }
        if (heard) return source === 'l1' ? 'forbidden-l1-after-bus' : 'forbidden-flight'
        return source === 'l1' ? 'allowed-l1' : 'allowed-flight'
      }
    }
  }

  *#allWrites(): Generator<WriteRecord> {
    for (const [row, log] of this.#rows) {
      for (let k = 0; k < log.times.length; k++) {
        yield {
          row,
          version: log.versions[k] as number,
          seq: log.seqs[k] as number,
          resolvedAt: log.times[k] as number,
          replayed: log.replayed[k],
          via: log.via[k] as WritePath,
          acked: log.acked[k],
        }
      }
    }
  }
}

/** Whether one of the first `known` writes of `log` is newer than `version` and was acknowledged. */
function ackedNewer(log: RowLog, known: number, version: number): boolean {
  for (let k = 0; k < known; k++) {
    if (log.acked[k] === true && (log.versions[k] as number) > version) return true
  }
  return false
}

/** How many of the ascending `values` are below `limit`. */
function countBefore(values: readonly number[], limit: number): number {
  return countWhile(values, (v) => v < limit)
}

/** How many of the ascending `values` are at most `limit`. */
function countAtMost(values: readonly number[], limit: number): number {
  return countWhile(values, (v) => v <= limit)
}

/** Binary search: how many leading `values` satisfy `test` (true then false along the array). */
function countWhile(values: readonly number[], test: (v: number) => boolean): number {
  let lo = 0
  let hi = values.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (test(values[mid] as number)) lo = mid + 1
    else hi = mid
  }
  return lo
}
