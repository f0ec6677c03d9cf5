import { parts } from '../../stores/batch-limits.js'

/**
 * Invalidations the shared store did not record (it was unreachable), waiting to be sent again.
 * They were applied in this process already and the caller was told (`E_INVALIDATION_NOT_RECORDED`);
 * the queue makes sure the store — and through it the fleet — hears of them once it is back,
 * before this process reads from it again.
 *
 * Bounded: past `maxTags` distinct tags the queue collapses into one invalidation of the cache's
 * root namespace, which voids everything the lost tags could have voided (and more). Coarser,
 * never lost.
 */
export class ReplayQueue {
  readonly #maxTags: number
  readonly #rootTag: string
  readonly #hard = new Set<string>()
  readonly #soft = new Set<string>()
  #collapsed = false
  #draining: Promise<void> | undefined

  constructor(maxTags: number, rootTag: string) {
    this.#maxTags = maxTags
    this.#rootTag = rootTag
  }

  /** Distinct tags waiting (1 once collapsed). */
  get size(): number {
    return this.#collapsed ? 1 : this.#hard.size + this.#soft.size
  }

  /** Queues `tags`; true when this overflowed the bound and collapsed the queue. */
  add(tags: readonly string[], stale: boolean): boolean {
    if (this.#collapsed) return false
    const into = stale ? this.#soft : this.#hard
    for (const tag of tags) into.add(tag)
    if (this.#hard.size + this.#soft.size <= this.#maxTags) return false
    this.#hard.clear()
    this.#soft.clear()
    this.#collapsed = true
    return true
  }

  /**
   * Sends everything queued with `invalidate` (hard tags, then soft ones), in parts of at most
   * `batch-limits.ts` tags; one drain at a time. Tags stay queued until the store took their
   * part; a failure stops the drain and leaves the rest for the next one.
   */
  drain(invalidate: (tags: readonly string[], stale: boolean) => Promise<unknown>): Promise<void> {
    this.#draining ??= this.#send(invalidate).finally(() => (this.#draining = undefined))
    return this.#draining
  }

  async #send(invalidate: (tags: readonly string[], stale: boolean) => Promise<unknown>) {
    if (this.#collapsed) {
      await invalidate([this.#rootTag], false)
      this.#collapsed = false
      return
    }
    for (const [set, stale] of [
      [this.#hard, false],
      [this.#soft, true],
    ] as const) {
      if (set.size === 0) continue
      for (const part of parts([...set], (tag) => tag.length)) {
        await invalidate(part, stale)
        for (const tag of part) set.delete(tag)
      }
    }
  }
}
