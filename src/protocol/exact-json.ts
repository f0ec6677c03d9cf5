/**
 * A JSON reader that keeps numbers exactly: `JSON.parse` turns `12345678901234567890` into
 * 12345678901234567000, so a Snowflake-style id would name another entity's tag (and Node 20's
 * `JSON.parse` gives a reviver no source text to recover it from).
 *
 * Everything is read as `JSON.parse` reads it (RFC 8259, duplicate keys: the last wins), except
 * numbers: an integer literal beyond ±(2^53 - 1) becomes a `bigint` of exactly its digits; any
 * other number is a `number` when that number prints back as the same decimal (`1.50`, `1e3`,
 * `0.1`), and otherwise — it would be rounded (`0.10000000000000000001`, `1.2345678901234567891e19`,
 * `1e999`) — the body is refused. Nothing is ever silently rounded.
 */
export function parseExactJson(text: string): unknown {
  const reader = new Reader(text)
  reader.space()
  const value = reader.value(0)
  reader.space()
  if (reader.at < text.length) throw reader.fail('unexpected text after the value')
  // Only once the whole text is known to be JSON: a syntax error is the thing to report first.
  if (reader.inexact !== undefined) throw reader.inexact
  return value
}

/** Why a body is not JSON (`inexact`: it is, but holds a number that cannot be kept exactly). */
export class JsonSyntaxError extends Error {
  override name = 'JsonSyntaxError'
  readonly inexact: boolean

  constructor(message: string, inexact = false) {
    super(message)
    this.inexact = inexact
  }
}

/** Nesting is bounded: the bodies read here are a few levels deep, and a deep one must not overflow the stack. */
export const MAX_DEPTH = 64

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y
// Raw control characters are what JSON strings may not hold (RFC 8259 §7): the ranges are the point.
// eslint-disable-next-line no-control-regex
const PLAIN_STRING = /"[^"\\\u0000-\u001f]*"/y
// eslint-disable-next-line no-control-regex
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y
const WORDS = new Map<string, unknown>([
  ['true', true],
  ['false', false],
  ['null', null],
])

class Reader {
  at = 0
  /** The first number that cannot be kept exactly. */
  inexact: JsonSyntaxError | undefined
  readonly #text: string

  constructor(text: string) {
    this.#text = text
  }

  fail(problem: string): JsonSyntaxError {
    return new JsonSyntaxError(`${problem} at position ${this.at}`)
  }

  space(): void {
    const text = this.#text
    for (;;) {
      const c = text.charCodeAt(this.at)
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return
      this.at++
    }
  }

  value(depth: number): unknown {
    const c = this.#text[this.at]
    if (c === '{') return this.#object(depth + 1)
    if (c === '[') return this.#array(depth + 1)
    if (c === '"') return this.#string()
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.#number()
    for (const [word, value] of WORDS) {
      if (this.#text.startsWith(word, this.at)) {
        this.at += word.length
        return value
      }
    }
    throw this.fail(c === undefined ? 'unexpected end' : `unexpected ${JSON.stringify(c)}`)
  }

  #object(depth: number): Record<string, unknown> {
    if (depth > MAX_DEPTH) throw this.fail(`nested deeper than ${MAX_DEPTH} levels`)
    const object: Record<string, unknown> = {}
    this.at++
    this.space()
    if (this.#eat('}')) return object
    for (;;) {
      if (this.#text[this.at] !== '"') throw this.fail('expected a key')
      const key = this.#string()
      this.space()
      if (!this.#eat(':')) throw this.fail("expected ':'")
      this.space()
      // As JSON.parse: `__proto__` is an own property, never the object's prototype.
      Object.defineProperty(object, key, {
        value: this.value(depth),
        writable: true,
        enumerable: true,
        configurable: true,
      })
      this.space()
      if (this.#eat('}')) return object
      if (!this.#eat(',')) throw this.fail("expected ',' or '}'")
      this.space()
    }
  }

  #array(depth: number): unknown[] {
    if (depth > MAX_DEPTH) throw this.fail(`nested deeper than ${MAX_DEPTH} levels`)
    const array: unknown[] = []
    this.at++
    this.space()
    if (this.#eat(']')) return array
    for (;;) {
      array.push(this.value(depth))
      this.space()
      if (this.#eat(']')) return array
      if (!this.#eat(',')) throw this.fail("expected ',' or ']'")
      this.space()
    }
  }

  #string(): string {
    const plain = this.#match(PLAIN_STRING)
    if (plain !== undefined) return plain.slice(1, -1)
    const escaped = this.#match(STRING)
    if (escaped === undefined) throw this.fail('bad string')
    return JSON.parse(escaped) as string
  }

  #number(): number | bigint {
    const start = this.at
    NUMBER.lastIndex = start
    const match = NUMBER.exec(this.#text)
    if (match === null) throw this.fail('bad number')
    this.at = NUMBER.lastIndex
    const literal = match[0]
    const value = Number(literal)
    if (match[1] === undefined && match[2] === undefined) {
      return Number.isSafeInteger(value) ? value : BigInt(literal)
    }
    if (
      this.inexact === undefined &&
      (!Number.isFinite(value) || !sameDecimal(literal, String(value)))
    ) {
      const shown = literal.length > 40 ? `${literal.slice(0, 40)}…` : literal
      this.inexact = new JsonSyntaxError(
        `the number ${shown} at position ${start} cannot be kept exactly (send it as a string)`,
        true,
      )
    }
    return value
  }

  #eat(c: string): boolean {
    if (this.#text[this.at] !== c) return false
    this.at++
    return true
  }

  #match(pattern: RegExp): string | undefined {
    pattern.lastIndex = this.at
    const match = pattern.exec(this.#text)
    if (match === null) return undefined
    this.at = pattern.lastIndex
    return match[0]
  }
}

/** Whether two decimal literals (`-1.50e3`, `1500`) denote the same number. */
function sameDecimal(a: string, b: string): boolean {
  const x = decimal(a)
  const y = decimal(b)
  return (
    x.digits === y.digits &&
    (x.digits === '' || (x.negative === y.negative && x.exponent === y.exponent))
  )
}

/** Sign, significant digits (no leading or trailing zeros) and the power of ten of the last one. */
function decimal(literal: string): { negative: boolean; digits: string; exponent: number } {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(literal)
  if (match === null) return { negative: false, digits: 'NaN', exponent: 0 }
  const fraction = match[3] ?? ''
  let digits = (match[2] as string) + fraction
  let exponent = Number(match[4] ?? '0') - fraction.length
  digits = digits.replace(/^0+/, '')
  const trimmed = digits.replace(/0+$/, '')
  exponent += digits.length - trimmed.length
  return { negative: match[1] === '-', digits: trimmed, exponent }
}
