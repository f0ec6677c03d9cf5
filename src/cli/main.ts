#!/usr/bin/env node
import { HELP } from './help.js'
import { EXIT, UsageError } from './exit-codes.js'
import { logLine } from './log-line.js'
import { invalidate, stats } from './remote.js'
import { serve } from './serve.js'

/** Runs one command line; resolves with the exit code. */
export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [command, ...args] = argv
  const out = (line: string) => process.stdout.write(`${line}\n`)
  const err = (line: string) => process.stderr.write(`${line}\n`)
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    ;(command === undefined ? err : out)(HELP)
    return command === undefined ? EXIT.usage : EXIT.ok
  }
  if (args.includes('--help') || args.includes('-h')) {
    out(HELP)
    return EXIT.ok
  }
  try {
    switch (command) {
      case 'serve':
        return await serve(args, env, err)
      case 'invalidate':
        return await invalidate(args, env, { out, err })
      case 'stats':
        return await stats(args, env, { out, err })
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`)
    }
  } catch (error) {
    // parseArgs throws TypeErrors with ERR_PARSE_ARGS_* codes for unknown or malformed flags.
    const code = (error as { code?: unknown }).code
    if (
      error instanceof UsageError ||
      (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))
    ) {
      err(`${logLine((error as Error).message)}\nRun 'cachegraph --help' for the flags.`)
      return EXIT.usage
    }
    err(logLine(error instanceof Error ? error.message : String(error)))
    return EXIT.failed
  }
}

// Exits explicitly: a closed cache may leave nothing pending, but a stuck socket must not keep a
// stopped service (or a finished client command) alive.
main(process.argv.slice(2), process.env).then(
  (code) => process.exit(code),
  () => process.exit(EXIT.failed),
)
