/**
 * Time limits of the parts of a big batch. Each part is a guarded call of its own, and the batch
 * as a whole gets the operation's limit once per part: a part that is slow (a busy machine, a
 * garbage collection) may use what the parts before it left unused, so one hiccup among thousands
 * of parts does not cut the batch short. No part waits longer than {@link MAX_PART_LIMITS} limits,
 * so a store that stalls still fails the batch quickly.
 */
export const MAX_PART_LIMITS = 10

export class PartBudget {
  readonly #limit: number
  readonly #deadline: number

  /** `limitMs`: the operation's limit for one call; `parts`: how many parts the batch has. */
  constructor(limitMs: number, parts: number) {
    this.#limit = limitMs
    this.#deadline = Date.now() + limitMs * parts
  }

  /** The limit of the next part, ms: at least one limit, at most {@link MAX_PART_LIMITS}. */
  next(): number {
    if (this.#limit === Infinity) return Infinity
    const left = this.#deadline - Date.now()
    return Math.max(this.#limit, Math.min(left, this.#limit * MAX_PART_LIMITS))
  }
}
