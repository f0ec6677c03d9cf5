import { vi } from 'vitest'

import type { Logger } from '../../src/warnings.js'

/** One call a {@link recordingLogger} received. */
export interface Logged {
  level: 'warn' | 'error' | 'debug'
  object: Record<string, unknown>
  message: string | undefined
}

/** A pino-shaped logger that keeps what it is given. */
export function recordingLogger(): Logger & { logged: Logged[] } {
  const logged: Logged[] = []
  const at =
    (level: Logged['level']) => (object: Record<string, unknown> | string, message?: string) =>
      void logged.push({ level, object: object as Record<string, unknown>, message })
  return { logged, warn: at('warn'), error: at('error'), debug: at('debug') }
}

/**
 * Spies on every way cachegraph reported before loggers (process warnings, the console, stderr);
 * none may be used when a logger is given. Undone by `vi.restoreAllMocks()`.
 */
export function silenceWatch(): { calls(): number } {
  const spies = [
    vi.spyOn(process, 'emitWarning').mockImplementation(() => {}),
    vi.spyOn(console, 'error').mockImplementation(() => {}),
    vi.spyOn(console, 'warn').mockImplementation(() => {}),
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true),
  ]
  return { calls: () => spies.reduce((sum, spy) => sum + spy.mock.calls.length, 0) }
}
