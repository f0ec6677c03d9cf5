/**
 * The number written in `text` between `from` and `to`, as `Number(text.slice(from, to))` reads
 * it. The integers of stored headers (sequences, timestamps) are read digit by digit, without
 * the short string a slice would allocate on every shared-tier read; anything else (a sign, a
 * fraction, `Infinity`, an integer beyond 2^53) goes through `Number`.
 */
export function numberAt(text: string, from: number, to: number): number {
  if (to <= from || to - from > 16) return Number(text.slice(from, to))
  let n = 0
  for (let i = from; i < to; i++) {
    const digit = text.charCodeAt(i) - 48
    if (digit < 0 || digit > 9) return Number(text.slice(from, to))
    n = n * 10 + digit
  }
  return n <= Number.MAX_SAFE_INTEGER ? n : Number(text.slice(from, to))
}
