/**
 * Durations collected across processes, reduced to percentiles at the end. Bounded: past
 * `limit` values a uniform reservoir is kept (count, min and max stay exact), so a long run
 * cannot grow a worker's memory or the message it sends back.
 */
export interface SampleSet {
  count: number
  min: number
  max: number
  values: number[]
}

export interface Summary {
  count: number
  p50: number
  p99: number
  max: number
}

export class Samples {
  readonly #limit: number
  #set: SampleSet = { count: 0, min: Infinity, max: -Infinity, values: [] }

  constructor(limit = 20_000) {
    this.#limit = limit
  }

  add(value: number): void {
    const set = this.#set
    set.count++
    if (value < set.min) set.min = value
    if (value > set.max) set.max = value
    if (set.values.length < this.#limit) set.values.push(value)
    else {
      const slot = Math.floor(Math.random() * set.count)
      if (slot < this.#limit) set.values[slot] = value
    }
  }

  toJSON(): SampleSet {
    return this.#set
  }
}

/** Percentiles of several processes' sets (reservoirs are merged as they are: approximate). */
export function summarize(sets: readonly SampleSet[]): Summary | undefined {
  const values = sets.flatMap((s) => s.values).sort((a, b) => a - b)
  const count = sets.reduce((n, s) => n + s.count, 0)
  if (values.length === 0) return undefined
  const at = (q: number) => values[Math.min(values.length - 1, Math.floor(q * values.length))]!
  return { count, p50: at(0.5), p99: at(0.99), max: Math.max(...sets.map((s) => s.max)) }
}
