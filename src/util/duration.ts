import { invalidOption } from '../errors.js'

/** A duration: milliseconds as a number, or a string such as `'250ms'`, `'10s'`, `'5m'`, `'1h'`, `'1d'`. */
export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const parsed = new Map<string, number>()
const PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/

/**
 * Parses a {@link Duration} into milliseconds. `Infinity` is kept (callers clamp it).
 * Throws a `CacheError` naming `option` when the value is not a duration.
 */
export function toMs(value: unknown, option: string): number {
  if (typeof value === 'string') {
    // Read-through calls pass the same few strings over and over: parse each once.
    const known = parsed.get(value)
    if (known !== undefined) return known
  }
  if (typeof value === 'number') {
    if (Number.isNaN(value) || value < 0) {
      throw invalidOption(option, `must be a duration >= 0, got ${String(value)}`)
    }
    return value
  }
  if (typeof value === 'string') {
    const match = PATTERN.exec(value)
    if (match) {
      const ms = Number(match[1]) * (UNIT_MS[match[2] as string] as number)
      if (parsed.size < 1_000) parsed.set(value, ms)
      return ms
    }
  }
  throw invalidOption(
    option,
    `must be milliseconds or a string like '250ms', '10s', '5m', '1h', '1d'; got ${JSON.stringify(value)}`,
  )
}
