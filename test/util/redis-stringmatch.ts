/**
 * A line-by-line port of `stringmatchlen_impl` from Redis's util.c (7.x, `nocase` = 0), as the
 * oracle for the glob property test. Deliberately the recursive original — exponential-safe only
 * through `skipLongerMatches` — and only for the short generated inputs of that test. Bytes past
 * the end read as 0, like the NUL after an sds string; chars are signed, as on x86-64.
 */
export function redisStringMatch(pattern: Buffer, string: Buffer): boolean {
  return impl(pattern, 0, pattern.length, string, 0, string.length, { skip: false }, 0)
}

const at = (b: Buffer, i: number): number => {
  const v = b[i] ?? 0
  return v < 0x80 ? v : v - 256
}

function impl(
  pat: Buffer,
  p: number,
  patternLen: number,
  str: Buffer,
  s: number,
  stringLen: number,
  state: { skip: boolean },
  nesting: number,
): boolean {
  if (nesting > 1000) return false
  const STAR = 0x2a
  while (patternLen > 0 && stringLen > 0) {
    const c = at(pat, p)
    if (c === STAR) {
      while (patternLen > 0 && at(pat, p + 1) === STAR) {
        p++
        patternLen--
      }
      if (patternLen === 1) return true
      while (stringLen > 0) {
        if (impl(pat, p + 1, patternLen - 1, str, s, stringLen, state, nesting + 1)) return true
        if (state.skip) return false
        s++
        stringLen--
      }
      state.skip = true
      return false
    } else if (c === 0x3f /* ? */) {
      s++
      stringLen--
    } else if (c === 0x5b /* [ */) {
      p++
      patternLen--
      const not = at(pat, p) === 0x5e
      if (not) {
        p++
        patternLen--
      }
      let match = false
      for (;;) {
        if (at(pat, p) === 0x5c && patternLen >= 2) {
          p++
          patternLen--
          if (at(pat, p) === at(str, s)) match = true
        } else if (at(pat, p) === 0x5d) {
          break
        } else if (patternLen === 0) {
          p--
          patternLen++
          break
        } else if (patternLen >= 3 && at(pat, p + 1) === 0x2d) {
          let start = at(pat, p)
          let end = at(pat, p + 2)
          const ch = at(str, s)
          if (start > end) [start, end] = [end, start]
          p += 2
          patternLen -= 2
          if (ch >= start && ch <= end) match = true
        } else if (at(pat, p) === at(str, s)) {
          match = true
        }
        p++
        patternLen--
      }
      if (not) match = !match
      if (!match) return false
      s++
      stringLen--
    } else {
      if (c === 0x5c && patternLen >= 2) {
        p++
        patternLen--
      }
      if (at(pat, p) !== at(str, s)) return false
      s++
      stringLen--
    }
    p++
    patternLen--
    if (stringLen === 0) {
      while (at(pat, p) === STAR) {
        p++
        patternLen--
      }
      break
    }
  }
  return patternLen === 0 && stringLen === 0
}
