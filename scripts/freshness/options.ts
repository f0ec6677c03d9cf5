/** Command-line options of the freshness checker (node:util parseArgs), with their defaults. */
import { parseArgs } from 'node:util'

import { BREAK_NAMES, BREAKS } from './breaks.js'
import { FAULT_KINDS, FAULTS, type FaultKind, SERVICE_FAULTS } from './faults.js'
import { type DbKind, WRITE_PATHS, type WritePath } from './protocol.js'

export interface RunOptions {
  durationMs: number
  readers: number
  /** How many of the readers run without a bus. */
  busless: number
  writers: number
  rows: number
  db: DbKind | 'auto'
  json: boolean
  break: string | undefined
  concurrency: number
  writeRate: number
  /** Share of readers' reads through their app's cached route. */
  httpShare: number
  /** How writers' invalidations go out (one picked at random per write). */
  writePaths: WritePath[]
  /** API writes invalidate with `{ ack: true }`; the service is asked for `?ack=1`. */
  ack: boolean
  /** Loops of background reads per writer (not judged). */
  writerReads: number
  loaderDelayMs: number
  /** The faults to rotate through (empty: none). */
  faults: FaultKind[]
  /** About how often a fault starts, ms. */
  faultEveryMs: number
  /**
   * `forbidden`: end at the first forbidden stale read; `faults`: end once every chosen fault
   * was injected `rounds` times (and its effects had time to show). `durationMs` is then the cap.
   */
  until: { kind: 'forbidden' } | { kind: 'faults'; rounds: number } | undefined
  maxSilenceMs: number
  busSlackMs: number
  redisUrl: string
}

export const HELP = `Usage: npm run check:freshness -- [options]
       node --import tsx scripts/freshness/main.ts [options]

Runs reader and writer processes (each with an app server on its cache) and an invalidation
service process on one Redis (REDIS_URL, default redis://127.0.0.1:6379) and a
source of truth (PostgreSQL on 127.0.0.1:5432, database test, user postgres — or Redis keys),
and checks every value a reader got against the writes whose invalidate() had resolved before the
read began. Tests the built library: run \`npm run build\` first.

Options (durations take ms, s or m; a bare number is milliseconds):
  --duration <d>       how long to read and write                        (default 30s)
  --until forbidden    end the run as soon as a forbidden stale read is found; --duration is
                       then a cap (a check that a --break is noticed need not guess how long
                       a busy machine takes to hit the race)
  --until faults[=n]   end the run once every chosen fault was injected n times (default 1),
                       a few seconds later so its effects are judged; --duration is a cap
  --readers <n>        reader processes                                  (default 4)
  --busless <n>        how many of them share the store but not the bus (their own L1 is
                       stale until ttl; what they store must never be)   (default 1)
  --writers <n>        writer processes                                  (default 2)
  --rows <n>           rows in the table; half the reads and writes go to
                       two hot ones                                      (default 64)
  --db <kind>          auto | postgres | redis                           (default auto)
  --concurrency <n>    reads in flight per reader                        (default 4)
  --write-rate <n>     writes per second per writer                      (default 50)
  --http-share <x>     share of reads through the reader's app (Fastify, Express or Hono,
                       by reader) rather than the cached functions     (default 0.3)
  --write-paths <list> how writes invalidate, one picked per write: api (cache.invalidate),
                       http (PATCH to the writer's app), service (the client, through the
                       invalidation service of the run), source (a commit to PostgreSQL
                       alone: the writer's change capture, cachegraph/postgres, invalidates;
                       needs --db postgres or auto finding it), set (cache.set of the row
                       written: write-through, superseding its entry; with it each writer
                       writes only rows of its own), delete (cache.delete of the row's
                       entry: delete-on-write)                           (default api,http,service)
  --ack                API writes invalidate with { ack: true }, writes through the service ask
                       it for ?ack=1: a stale read of any kind (but from a process without a
                       bus) after such a write the whole fleet acknowledged is forbidden. The
                       apps answer writes with ack too, but do not say whether every process
                       answered: their writes are judged by the ordinary rules
  --writer-reads <n>   loops of background reads per writer, not judged: with them a writer's
                       circuit opens in an outage and its invalidate() rejects (then replays)
                                                                         (default 2)
  --loader-delay <d>   loaders sleep up to this after the database read  (default 5ms)
  --faults <list>      faults to inject, one at a time, rotating: comma-separated kinds,
                       all or none                                       (default bus-kill)
${FAULTS.map((f) => `                         ${f.kind.padEnd(14)} ${f.what}`).join('\n')}
                       stall, cut and restart put a TCP proxy of the run between the caches
                       and Redis; restart, flushdb and evict-records start a redis-server of
                       the run's own (from PATH): REDIS_URL itself is never restarted, flushed
                       nor squeezed. service-restart needs the service write path (all
                       leaves it out without it)
  --fault-every <d>    start a fault about this often                    (default 1s)
  --kill-every <d>     the same as --faults bus-kill --fault-every <d> (0: --faults none)
  --max-silence <d>    the bus's maxSilence: the bound on a stale L1 read (default 1s)
  --bus-slack <d>      a stale L1 read this long after the bus delivered the invalidation
                       to that process is forbidden                      (default 2ms)
  --break <name>       test a copy of dist/ with one protection removed:
${BREAKS.map((b) => `                         ${b.name.padEnd(16)} ${b.what}`).join('\n')}
  --json               print the result as JSON
  --next               check through two Next.js instances of examples/next instead
                       (its own options: --next --help)
  --help               this text

Exit code: 0 when no read was stale beyond what the consistency model allows, no caller saw an
error (an invalidate() rejected with E_INVALIDATION_NOT_RECORDED is expected under faults, not
an error) and every rejected invalidation was replayed; 1 otherwise; 2 when the check itself
could not run.`

export class UsageError extends Error {}

export function parseOptions(argv: readonly string[]): RunOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      duration: { type: 'string', default: '30s' },
      readers: { type: 'string', default: '4' },
      busless: { type: 'string', default: '1' },
      writers: { type: 'string', default: '2' },
      rows: { type: 'string', default: '64' },
      db: { type: 'string', default: 'auto' },
      concurrency: { type: 'string', default: '4' },
      'write-rate': { type: 'string', default: '50' },
      'writer-reads': { type: 'string', default: '2' },
      'http-share': { type: 'string', default: '0.3' },
      'write-paths': { type: 'string', default: 'api,http,service' },
      'loader-delay': { type: 'string', default: '5ms' },
      faults: { type: 'string' },
      'fault-every': { type: 'string', default: '1s' },
      'kill-every': { type: 'string' },
      'max-silence': { type: 'string', default: '1s' },
      'bus-slack': { type: 'string', default: '2ms' },
      break: { type: 'string' },
      until: { type: 'string' },
      json: { type: 'boolean', default: false },
      ack: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  })
  if (values.help) return 'help'
  if (!['auto', 'postgres', 'redis'].includes(values.db)) {
    throw new UsageError(`--db must be auto, postgres or redis, not '${values.db}'`)
  }
  if (values.break !== undefined && !BREAK_NAMES.includes(values.break)) {
    throw new UsageError(`--break must be one of ${BREAK_NAMES.join(', ')}`)
  }
  const until = parseUntil(values.until)
  let faults = parseFaults(values.faults ?? 'bus-kill')
  let faultEveryMs = duration('fault-every', values['fault-every'], 10)
  if (values['kill-every'] !== undefined) {
    if (values.faults !== undefined)
      throw new UsageError('--kill-every and --faults exclude each other')
    const every = duration('kill-every', values['kill-every'], 0)
    faults = every > 0 ? ['bus-kill'] : []
    if (every > 0) faultEveryMs = every
  }
  const writePaths = parseWritePaths(values['write-paths'])
  if (!writePaths.includes('service') && faults.some((f) => SERVICE_FAULTS.includes(f))) {
    if (values.faults?.trim() !== 'all') {
      throw new UsageError('--faults service-restart needs service among --write-paths')
    }
    faults = faults.filter((f) => !SERVICE_FAULTS.includes(f))
  }
  const readers = count('readers', values.readers, 1)
  const busless = count('busless', values.busless, 0)
  if (busless > readers) throw new UsageError('--busless cannot exceed --readers')
  if (faults.includes('pause') && busless === readers) {
    throw new UsageError('--faults pause needs a reader with a bus (--busless below --readers)')
  }
  return {
    durationMs: duration('duration', values.duration, 100),
    readers,
    busless,
    writers: count('writers', values.writers, 1),
    rows: count('rows', values.rows, 2),
    db: values.db as RunOptions['db'],
    json: values.json,
    break: values.break,
    concurrency: count('concurrency', values.concurrency, 1),
    writeRate: count('write-rate', values['write-rate'], 1),
    writerReads: count('writer-reads', values['writer-reads'], 0),
    httpShare: share('http-share', values['http-share']),
    writePaths,
    ack: values.ack,
    loaderDelayMs: duration('loader-delay', values['loader-delay'], 0),
    faults,
    faultEveryMs,
    until,
    maxSilenceMs: duration('max-silence', values['max-silence'], 20),
    busSlackMs: duration('bus-slack', values['bus-slack'], 0),
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  }
}

function parseUntil(text: string | undefined): RunOptions['until'] {
  if (text === undefined) return undefined
  if (text === 'forbidden') return { kind: 'forbidden' }
  const faults = /^faults(?:=(\d+))?$/.exec(text)
  if (faults !== null) {
    const rounds = Number(faults[1] ?? '1')
    if (rounds >= 1) return { kind: 'faults', rounds }
  }
  throw new UsageError(`--until takes forbidden or faults[=n] (n >= 1), not '${text}'`)
}

function parseFaults(text: string): FaultKind[] {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
  if (names.length === 1 && names[0] === 'none') return []
  if (names.length === 1 && names[0] === 'all') return [...FAULT_KINDS]
  for (const name of names) {
    if (!(FAULT_KINDS as readonly string[]).includes(name)) {
      throw new UsageError(
        `--faults takes all, none or some of ${FAULT_KINDS.join(', ')}; not '${name}'`,
      )
    }
  }
  return [...new Set(names)] as FaultKind[]
}

function parseWritePaths(text: string): WritePath[] {
  const names = [...new Set(text.split(',').map((s) => s.trim()))].filter((s) => s !== '')
  if (names.length === 0 || names.some((n) => !(WRITE_PATHS as readonly string[]).includes(n))) {
    throw new UsageError(`--write-paths takes some of ${WRITE_PATHS.join(', ')}; not '${text}'`)
  }
  return names as WritePath[]
}

function share(name: string, text: string): number {
  const x = Number(text)
  if (!(x >= 0 && x <= 1)) throw new UsageError(`--${name} must be a number from 0 to 1`)
  return x
}

function count(name: string, text: string, min: number): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`--${name} must be an integer >= ${min}`)
  return n
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 }

function duration(name: string, text: string, min: number): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim())
  const ms = match === null ? NaN : Number(match[1]) * (UNITS[match[2] ?? 'ms'] as number)
  if (!(ms >= min))
    throw new UsageError(`--${name} must be a duration of at least ${min} ms, like 10s`)
  return ms
}
