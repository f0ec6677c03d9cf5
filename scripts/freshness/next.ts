/**
 * `npm run check:freshness -- --next`: the freshness check through Next.js. examples/next is
 * built (once, cached) and run as two `next start` instances on one Redis with `ack`; writers
 * change the value behind each page through the app's server action (which answers once every
 * instance applied its `updateTag`/`revalidatePath`), readers read the pages through both
 * instances, and every value read is judged against the writes acknowledged before it began.
 *
 * - `/posts` (`'use cache'`, `cacheHandlers`): a read begun after a write was acknowledged must
 *   show that write or a later one. A render that began before the revalidation is not stored.
 * - `/price` (a tagged fetch) and `/isr/1` (an ISR page), both through `cacheHandler`: Next hands
 *   those values over only once rendered, so a render that overlapped a revalidation may be
 *   stored after it, as with Next's own handler (docs/next.md). Such a value is allowed until the
 *   next revalidation that began more than `--render-bound` after the value was replaced; older
 *   than that it is forbidden too.
 */
import { randomUUID } from 'node:crypto'
import { parseArgs } from 'node:util'

import { Redis } from 'ioredis'

import { buildExample, NextInstance } from '../../test/next/example-app.js'

export const NEXT_HELP = `Usage: npm run check:freshness -- --next [options]

Builds examples/next (once; the build is kept under node_modules/.cache/cachegraph-next), runs it
as two next start instances with ack on one Redis (REDIS_URL, default redis://127.0.0.1:6379),
changes the values behind its pages through its server action and reads the pages through both
instances. Exit code 0 when no read was forbidden-stale, 1 otherwise, 2 when it could not run.

Options:
  --duration <s>       seconds to read and write                          (default 20)
  --readers <n>        reads in flight, spread over both instances         (default 4)
  --write-every <ms>   pause between two writes of one page                (default 50)
  --render-bound <ms>  longest render: how long a /price or /isr/1 render that overlapped a
                       revalidation may keep its value after the next one  (default 5000)
  --json               print the result as JSON`

interface Page {
  path: string
  name: string
  tags: string[]
  paths: string[]
  /** Whether Next hands the handler the entry while rendering ('use cache') or after it. */
  strict: boolean
}

const PAGES: Page[] = [
  { path: '/posts', name: 'posts', tags: ['posts'], paths: [], strict: true },
  { path: '/price', name: 'price', tags: ['price'], paths: [], strict: false },
  { path: '/isr/1', name: 'isr:1', tags: [], paths: ['/isr/1'], strict: false },
]

/** One acknowledged write: version `version` of a page's value, the save's start and answer. */
interface Write {
  version: number
  start: number
  acked: number
}

export interface NextReport {
  ok: boolean
  durationMs: number
  build: { built: boolean; ms: number }
  reads: number
  writes: number
  /** Reads that showed an older value than the newest acknowledged one, but were allowed. */
  allowedStale: number
  forbidden: number
  examples: string[]
  readP50Ms: number
  readP99Ms: number
  perInstance: number[]
}

export async function runNextCheck(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      duration: { type: 'string', default: '20' },
      readers: { type: 'string', default: '4' },
      'write-every': { type: 'string', default: '50' },
      'render-bound': { type: 'string', default: '5000' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  })
  if (values.help) {
    process.stdout.write(`${NEXT_HELP}\n`)
    return 0
  }
  const durationMs = Number(values.duration) * 1000
  const readers = Number(values.readers)
  const writeEvery = Number(values['write-every'])
  const renderBound = Number(values['render-bound'])
  if (![durationMs, readers, writeEvery, renderBound].every((n) => Number.isFinite(n) && n >= 0)) {
    process.stderr.write(
      `--duration, --readers, --write-every and --render-bound take numbers\n\n${NEXT_HELP}\n`,
    )
    return 2
  }
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  const log = (line: string) => process.stderr.write(`${line}\n`)

  const build = await buildExample()
  log(`next build: ${build.built ? 'built' : 'cached'} in ${Math.round(build.ms)} ms`)
  const prefix = `cgfresh-next-${randomUUID()}`
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 })
  const instances = await Promise.all([
    NextInstance.start({ build, redisUrl, prefix, ack: true }),
    NextInstance.start({ build, redisUrl, prefix, ack: true }),
  ])
  try {
    const report = await check(instances, build, { durationMs, readers, writeEvery, renderBound })
    process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : format(report))
    return report.ok ? 0 : 1
  } finally {
    await Promise.all(instances.map((instance) => instance.stop()))
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000)
      if (keys.length > 0) await redis.unlink(...keys)
      cursor = next
    } while (cursor !== '0')
    await redis.quit()
  }
}

async function check(
  instances: NextInstance[],
  build: Awaited<ReturnType<typeof buildExample>>,
  o: { durationMs: number; readers: number; writeEvery: number; renderBound: number },
): Promise<NextReport> {
  const writes = new Map<string, Write[]>(PAGES.map((page) => [page.name, []]))
  const latencies: number[] = []
  const perInstance = instances.map(() => 0)
  const examples: string[] = []
  let forbidden = 0
  let allowedStale = 0
  const started = performance.now()
  const end = started + o.durationMs
  const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)]!

  // One writer per page, so its versions rise one by one; each write through either instance.
  const writers = PAGES.map(async (page) => {
    const list = writes.get(page.name)!
    for (let version = 1; performance.now() < end; version++) {
      const start = performance.now()
      await pick(instances).save(build, page.name, `n${version}`, {
        tags: page.tags,
        paths: page.paths,
      })
      list.push({ version, start, acked: performance.now() })
      await new Promise((resolve) => setTimeout(resolve, o.writeEvery))
    }
  })

  const readerLoops = Array.from({ length: o.readers }, async () => {
    while (performance.now() < end) {
      const page = pick(PAGES)
      const i = Math.floor(Math.random() * instances.length)
      const begin = performance.now()
      const shown = await instances[i]!.value(page.path)
      latencies.push(performance.now() - begin)
      perInstance[i]!++
      const version = shown === 'v0' ? 0 : Number(shown.slice(1))
      const verdict = judge(page, writes.get(page.name)!, version, begin, o.renderBound)
      if (verdict === 'stale') allowedStale++
      if (verdict === 'forbidden') {
        forbidden++
        if (examples.length < 10) {
          const newest = latestAcked(writes.get(page.name)!, begin)
          examples.push(
            `instance ${i + 1} ${page.path}: n${version} at ${Math.round(begin - started)} ms, ` +
              `n${newest?.version} acknowledged at ${Math.round((newest?.acked ?? 0) - started)} ms`,
          )
        }
      }
    }
  })
  await Promise.all([...writers, ...readerLoops])

  latencies.sort((a, b) => a - b)
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0
  return {
    ok: forbidden === 0 && latencies.length > 0,
    durationMs: Math.round(performance.now() - started),
    build: { built: build.built, ms: Math.round(build.ms) },
    reads: latencies.length,
    writes: [...writes.values()].reduce((sum, list) => sum + list.length, 0),
    allowedStale,
    forbidden,
    examples,
    readP50Ms: Math.round(at(0.5) * 10) / 10,
    readP99Ms: Math.round(at(0.99) * 10) / 10,
    perInstance,
  }
}

/** The newest write acknowledged before `begin`. */
function latestAcked(list: readonly Write[], begin: number): Write | undefined {
  for (let i = list.length - 1; i >= 0; i--) if (list[i]!.acked < begin) return list[i]
  return undefined
}

/**
 * `fresh`: at least the newest write acknowledged before the read began. `stale`: older, but a
 * render that overlapped a revalidation may have stored it (fetch and ISR pages only). Otherwise
 * `forbidden`.
 */
export function judge(
  page: { strict: boolean },
  list: readonly Write[],
  version: number,
  begin: number,
  renderBound: number,
): 'fresh' | 'stale' | 'forbidden' {
  const newest = latestAcked(list, begin)
  if (newest === undefined || version >= newest.version) return 'fresh'
  if (page.strict) return 'forbidden'
  // The value was replaced by write version + 1, acknowledged at `replaced.acked` at the latest;
  // a render that read it stored it by `replaced.acked + renderBound`. Any revalidation that
  // began after that and was acknowledged before the read removed it.
  const replaced = list.find((write) => write.version === version + 1)
  if (replaced === undefined) return 'forbidden'
  const cleared = list.some(
    (write) => write.start > replaced.acked + renderBound && write.acked < begin,
  )
  return cleared ? 'forbidden' : 'stale'
}

function format(report: NextReport): string {
  return [
    `Next.js freshness: ${report.ok ? 'OK' : 'FAILED'} — ${report.reads} reads (instance 1: ${report.perInstance[0]}, instance 2: ${report.perInstance[1]}), ${report.writes} acknowledged writes in ${report.durationMs} ms`,
    `  forbidden stale reads: ${report.forbidden}; allowed stale (render overlapping a revalidation): ${report.allowedStale}`,
    `  read latency p50 ${report.readP50Ms} ms, p99 ${report.readP99Ms} ms`,
    ...report.examples.map((line) => `  forbidden: ${line}`),
    '',
  ].join('\n')
}
