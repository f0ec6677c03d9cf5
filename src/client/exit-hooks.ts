import type { Logger } from '../warnings.js'

/**
 * The client's hooks on the process, present only while it has work, so an idle client leaves
 * the process as it found it:
 * - `beforeExit` — the event loop emptied with invalidations pending: send them (the retry
 *   timers then keep the process alive until they are sent or given up on);
 * - `exit` — too late to send anything (`process.exit()`, or the end after an uncaught error):
 *   an exit handler runs synchronously and can do no I/O but a synchronous write, so the most it
 *   can do is say how many invalidations are lost.
 */
export class ExitHooks {
  readonly #onBeforeExit: () => void
  readonly #onExit: () => void
  #hooked = false

  constructor(onBeforeExit: () => void, onExit: () => void) {
    this.#onBeforeExit = onBeforeExit
    this.#onExit = onExit
  }

  hook(): void {
    if (this.#hooked) return
    this.#hooked = true
    process.on('beforeExit', this.#onBeforeExit)
    process.on('exit', this.#onExit)
  }

  unhook(): void {
    if (!this.#hooked) return
    this.#hooked = false
    process.off('beforeExit', this.#onBeforeExit)
    process.off('exit', this.#onExit)
  }
}

/**
 * Writes a warning line to stderr at once, in Node's own format — or, with a `logger`, logs it
 * (`warn`, with `code`). `process.emitWarning()` would print on the next tick, which never comes
 * in an `exit` handler; stderr writes are synchronous for files, pipes and terminals on POSIX
 * (a logger that buffers, such as pino's async destination, must flush on exit itself).
 */
export function warnNow(message: string, code: string, logger?: Logger): void {
  try {
    if (logger !== undefined) logger.warn({ code, name: 'CachegraphClientWarning' }, message)
    else process.stderr.write(`(node:${process.pid}) CachegraphClientWarning: ${message}\n`)
  } catch {
    // Nothing left to tell it with.
  }
}
