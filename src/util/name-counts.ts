/**
 * How many times each name is present (a multiset): `has` is true exactly for names added more
 * often than removed. A `Map` rather than a fixed array of hashed buckets: V8 hashes a string once
 * and keeps the hash in it (a JavaScript hash would read every character on every call, and first
 * copy a string made of pieces into one), and the answer is exact.
 */
export class NameCounts {
  readonly #counts = new Map<string, number>()

  add(name: string): void {
    this.#counts.set(name, (this.#counts.get(name) ?? 0) + 1)
  }

  /** Undoes one earlier `add` of `name`. */
  remove(name: string): void {
    const count = this.#counts.get(name)
    if (count === undefined) return
    if (count > 1) this.#counts.set(name, count - 1)
    else this.#counts.delete(name)
  }

  has(name: string): boolean {
    return this.#counts.has(name)
  }

  clear(): void {
    this.#counts.clear()
  }
}
