/**
 * One copy of the strings and header sets many stored responses share: the subtree tags of a
 * collection (`http:/items/*` of every `/items/<id>`) and the headers of a route's responses
 * (`content-type` alone, most often). Cached responses are many and alike; each holding its own
 * copy costs more than the body of a small response.
 *
 * A table is bounded: past its size it starts over (the copies already handed out stay valid,
 * they are only shared no more), so unusual values never make it grow without end.
 */
class InternTable<T> {
  readonly #table = new Map<string, T>()
  readonly #max: number

  constructor(max: number) {
    this.#max = max
  }

  /** The copy kept under `key`, else `make()`, kept. */
  get(key: string, make: () => T): T {
    const known = this.#table.get(key)
    if (known !== undefined) return known
    if (this.#table.size >= this.#max) this.#table.clear()
    const value = make()
    this.#table.set(key, value)
    return value
  }
}

const strings = new InternTable<string>(4_096)

/** The shared copy of `text`. */
export const internString = (text: string): string => strings.get(text, () => text)

type Headers = Readonly<Record<string, string | readonly string[]>>

const headerSets = new InternTable<Headers>(1_024)

/** The shared copy of a set of stored headers (frozen: no holder may change it). */
export function internHeaders(headers: Headers): Headers {
  const names = Object.keys(headers)
  if (names.length === 0) return EMPTY
  // A list value and the same values joined are different header sets: JSON tells them apart.
  return headerSets.get(JSON.stringify(headers), () => Object.freeze(headers))
}

const EMPTY: Headers = Object.freeze({})
