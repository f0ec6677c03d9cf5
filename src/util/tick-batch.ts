/** One caller's part of a batch. */
interface Waiter<R> {
  keys: readonly string[]
  resolve: (result: R) => void
  reject: (error: unknown) => void
}

/** Keys in one tick from which it is sent as two calls (below, one command is cheaper). */
export const PIPELINE_FROM = 16

/**
 * The most a call may carry when `total` things asked in one tick go out: half of them from
 * `from` on, so two calls are in flight and the process works on one answer while the server
 * works on the other (see {@link TickBatch}); never more than `max`.
 */
export function pipelined(total: number, max: number, from = PIPELINE_FROM): number {
  return total >= from ? Math.min(max, Math.ceil(total / 2)) : max
}

/**
 * Merges the keyed calls made in one tick into one call: their keys are concatenated, the answer
 * is split back per caller. Under concurrency this turns many small round trips into one command
 * (one write, one reply to parse); a lone call waits only for the end of the current tick
 * (`process.nextTick`, after the promise jobs that may add more keys).
 *
 * A tick of at least {@link PIPELINE_FROM} keys goes out as two calls of half each, not one: the
 * process decodes the first answer while the server still works on the second. With a single
 * call, callers that all resolve in one tick and all ask again in the next make process and
 * server take turns, each idle while the other works (a quarter of the process's time, measured
 * with 64 reads in flight); two halves keep both busy for the price of one more command.
 */
export class TickBatch<R> {
  readonly #run: (keys: string[]) => Promise<R>
  readonly #split: (result: R, from: number, count: number) => R
  readonly #maxKeys: number
  #pending: Waiter<R>[] | undefined

  /**
   * @param run does the merged call.
   * @param split the part of a merged answer that belongs to `count` keys starting at `from`.
   * @param maxKeys calls are merged until this many keys; more go out as further calls.
   */
  constructor(
    run: (keys: string[]) => Promise<R>,
    split: (result: R, from: number, count: number) => R,
    maxKeys = 1_000,
  ) {
    this.#run = run
    this.#split = split
    this.#maxKeys = maxKeys
  }

  load(keys: readonly string[]): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      if (this.#pending === undefined) {
        this.#pending = []
        process.nextTick(() => this.#flush())
      }
      this.#pending.push({ keys, resolve, reject })
    })
  }

  #flush(): void {
    const waiters = this.#pending ?? []
    this.#pending = undefined
    let total = 0
    for (const waiter of waiters) total += waiter.keys.length
    const most = pipelined(total, this.#maxKeys)
    let group: Waiter<R>[] = []
    let count = 0
    for (const waiter of waiters) {
      if (count > 0 && count + waiter.keys.length > most) {
        this.#send(group)
        group = []
        count = 0
      }
      group.push(waiter)
      count += waiter.keys.length
    }
    if (group.length > 0) this.#send(group)
  }

  #send(group: readonly Waiter<R>[]): void {
    const only = group.length === 1 ? group[0] : undefined
    const keys = only === undefined ? group.flatMap((waiter) => waiter.keys) : [...only.keys]
    this.#run(keys).then(
      (result) => {
        if (only !== undefined) return only.resolve(result)
        let from = 0
        for (const waiter of group) {
          waiter.resolve(this.#split(result, from, waiter.keys.length))
          from += waiter.keys.length
        }
      },
      (error: unknown) => {
        for (const waiter of group) waiter.reject(error)
      },
    )
  }
}
