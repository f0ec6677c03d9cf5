import { CacheError } from '../errors.js'

/**
 * Redis globs (`SCAN ... MATCH`, `KEYS`), matched exactly as Redis's `stringmatchlen` (util.c)
 * matches them, but in time linear in the key's length (times the pattern's).
 *
 * Redis matches bytes: a key and a pattern are compared as their UTF-8 bytes, so `?` is one byte
 * (`??` for `é`), and a range compares bytes as C's signed `char` (x86-64, where Redis is built).
 * The syntax, as Redis reads it — no pattern is a syntax error:
 * - `*` any run of bytes (consecutive stars are one), `?` any one byte;
 * - `[abc]`, `[^abc]` one byte of (not of) the set; `[a-z]` a range, and `[z-a]` is the same
 *   range (Redis swaps it); `\\x` inside a set is a literal `x`; `[a-]` is the range `a`..`]`
 *   (the `]` is taken as the range's end and the set goes on); a set left open at the end of the
 *   pattern holds what follows the `[`;
 * - `\\x` is a literal `x`, a trailing `\\` a literal backslash; anything else is itself.
 *
 * Two quirks of Redis are kept, so results agree with `SCAN MATCH` on every key: the empty key
 * matches only the empty pattern, and a pattern whose 1001st run of stars is not its end matches
 * nothing (Redis's recursion limit).
 *
 * Redis's own matcher recurses at each star; a RegExp translation backtracks exponentially on
 * patterns like `*a*a*a*b` over long keys. Here each star is a single backtrack point (every
 * other token consumes exactly one byte, so only the last star ever needs to move).
 */
export interface GlobMatcher {
  /** The pattern as given. */
  readonly pattern: string
  /** Whether `key` matches. */
  test(key: string): boolean
}

/** Longest pattern accepted, in UTF-8 bytes: it bounds the cost of matching one key. */
export const MAX_PATTERN_BYTES = 4_096

/** Redis gives up past this many nested stars (`nesting > 1000` in util.c). */
const MAX_STAR_NESTING = 1_000

const STAR = -1
const ANY = -2
/** A literal byte (0..255), `STAR`, `ANY`, or a set as a 256-entry membership table. */
type Token = number | Uint8Array

/**
 * Compiles a Redis glob. Throws `CacheError` `E_INVALID_PATTERN` for what cannot be one: a
 * non-string, or a pattern longer than {@link MAX_PATTERN_BYTES} bytes.
 *
 * @example
 * compileGlob('user:[0-9]*').test('user:42') // true
 */
export function compileGlob(pattern: string): GlobMatcher {
  if (typeof pattern !== 'string') {
    throw new CacheError(
      'E_INVALID_PATTERN',
      `cachegraph: a pattern must be a string, got ${typeof pattern}`,
    )
  }
  const bytes = Buffer.from(pattern, 'utf8')
  if (bytes.length > MAX_PATTERN_BYTES) {
    throw new CacheError(
      'E_INVALID_PATTERN',
      `cachegraph: a pattern may be at most ${MAX_PATTERN_BYTES} bytes long, got ${bytes.length}`,
    )
  }
  const tokens = tokenize(bytes)
  const never = pastNestingLimit(tokens)
  const anything = tokens.length === 1 && tokens[0] === STAR
  return {
    pattern,
    test(key: string): boolean {
      if (key.length === 0) return tokens.length === 0
      if (never) return false
      if (anything) return true
      return matchBytes(tokens, Buffer.from(key, 'utf8'))
    },
  }
}

/**
 * The former name of {@link compileGlob}, kept for the stores that import it: it returns a
 * matcher with `test`, no longer a RegExp.
 */
export const globToRegExp = compileGlob

/** The pattern's tokens, read as Redis reads them (string-independent: see util.c). */
function tokenize(p: Buffer): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < p.length) {
    const c = p[i] as number
    if (c === 0x2a /* * */) {
      if (tokens[tokens.length - 1] !== STAR) tokens.push(STAR)
      i++
    } else if (c === 0x3f /* ? */) {
      tokens.push(ANY)
      i++
    } else if (c === 0x5b /* [ */) {
      i = readSet(p, i + 1, tokens)
    } else if (c === 0x5c /* \ */ && i + 1 < p.length) {
      tokens.push(p[i + 1] as number)
      i += 2
    } else {
      tokens.push(c)
      i++
    }
  }
  return tokens
}

/** Reads a set starting just past its `[`; pushes its table; returns where the pattern goes on. */
function readSet(p: Buffer, from: number, tokens: Token[]): number {
  const members = new Uint8Array(256)
  let i = from
  const negate = p[i] === 0x5e /* ^ */
  if (negate) i++
  for (;;) {
    const left = p.length - i
    if (left >= 2 && p[i] === 0x5c /* \ */) {
      members[p[i + 1] as number] = 1
      i += 2
    } else if (left === 0) {
      // An open set: Redis steps back onto the last byte it read, so the set ends there.
      break
    } else if (p[i] === 0x5d /* ] */) {
      i++
      break
    } else if (left >= 3 && p[i + 1] === 0x2d /* - */) {
      let start = signed(p[i] as number)
      let end = signed(p[i + 2] as number)
      if (start > end) [start, end] = [end, start]
      for (let b = 0; b < 256; b++) {
        const s = signed(b)
        if (s >= start && s <= end) members[b] = 1
      }
      i += 3
    } else {
      members[p[i] as number] = 1
      i++
    }
  }
  if (negate) for (let b = 0; b < 256; b++) members[b] = members[b] === 1 ? 0 : 1
  tokens.push(members)
  return i
}

/** A byte as C's signed `char` on x86-64: 0x80..0xff are -128..-1. */
const signed = (b: number): number => (b < 0x80 ? b : b - 256)

/**
 * Redis recurses once per run of stars and answers "no match" below 1000 levels: a pattern whose
 * 1001st run of stars is followed by anything can match no (non-empty) key.
 */
function pastNestingLimit(tokens: readonly Token[]): boolean {
  let stars = 0
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] === STAR && ++stars > MAX_STAR_NESTING) return i < tokens.length - 1
  }
  return false
}

/**
 * Greedy match with one backtrack point: on a mismatch, the last star takes one more byte. Every
 * token but a star consumes exactly one byte, so moving an earlier star never helps; the cost is
 * at most (key bytes × tokens), with no recursion.
 */
function matchBytes(tokens: readonly Token[], s: Buffer): boolean {
  const n = s.length
  const m = tokens.length
  let t = 0
  let i = 0
  let starT = -1
  let starI = 0
  while (i < n) {
    const token = tokens[t]
    if (token === STAR) {
      starT = t++
      starI = i
      continue
    }
    if (token !== undefined && accepts(token, s[i] as number)) {
      t++
      i++
      continue
    }
    if (starT === -1) return false
    t = starT + 1
    i = ++starI
  }
  while (t < m && tokens[t] === STAR) t++
  return t === m
}

function accepts(token: Token, byte: number): boolean {
  if (typeof token === 'number') return token === ANY || token === byte
  return token[byte] === 1
}
