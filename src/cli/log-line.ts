/** Longest line the CLI writes for a message: a log is read by people and shipped by agents. */
export const MAX_LOG_LINE = 1_000

const PREFIX = 'cachegraph: '

/**
 * `message` as one log line: prefixed with `cachegraph: ` once (the package's own errors already
 * carry it), on one line, and cut at {@link MAX_LOG_LINE} characters saying how much was left out
 * — a message that quotes caller input (a tag list, a body) must not flood the log.
 */
export function logLine(message: string): string {
  const text = (message.startsWith(PREFIX) ? message : PREFIX + message).replace(/\r?\n/g, ' | ')
  if (text.length <= MAX_LOG_LINE) return text
  const cut = MAX_LOG_LINE - 40
  return `${text.slice(0, cut)}… (${text.length - cut} more characters)`
}
