/**
 * `npm run check:freshness`: the fleet-wide freshness check (see options.ts for what it does and
 * HELP for its options). Exit code 0: nothing stale beyond what the consistency model allows and
 * no caller error; 1: a forbidden stale read or a caller error; 2: the check could not run.
 */
import { runChecker } from './coordinator.js'
import { HELP, parseOptions, UsageError } from './options.js'
import { buildReport, formatReport } from './report.js'

async function main(): Promise<number> {
  const argv = process.argv.slice(2)
  // --next: the check through two Next.js instances (next.ts), with options of its own.
  if (argv.includes('--next')) {
    const { runNextCheck } = await import('./next.js')
    return runNextCheck(argv.filter((arg) => arg !== '--next'))
  }
  let options
  try {
    options = parseOptions(argv)
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof TypeError)) throw error
    process.stderr.write(`${error.message}\n\n${HELP}\n`)
    return 2
  }
  if (options === 'help') {
    process.stdout.write(`${HELP}\n`)
    return 0
  }
  const interrupt = new AbortController()
  // `on`, not `once`: a Ctrl-C may arrive twice (from the terminal, and forwarded by npm).
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => interrupt.abort())
  const run = await runChecker(
    options,
    (line) => process.stderr.write(`${line}\n`),
    interrupt.signal,
  )
  const report = buildReport(options, run)
  process.stdout.write(
    options.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`,
  )
  return report.ok ? 0 : 1
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `freshness: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    )
    process.exit(2)
  },
)
