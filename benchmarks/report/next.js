// Report section of the Next.js cache handlers (next.js): cachegraph beside
// @fortedigital/nextjs-cache-handler behind `cacheHandler` of one Next.js app.

import { fixed, int, NOT_RUN, table } from './format.js'

const ms = fixed(1)

export function next(results) {
  const r = results.next
  const out = ['### Next.js cache handlers (`next.js`)', '']
  if (!r) return [...out, NOT_RUN('next')]
  const m = r.method ?? {}
  out.push(
    `Next.js ${m.next}, two \`next start\` instances per handler on one Redis; an ISR page whose data is a fetch tagged \`bench\`, \`cacheMaxMemorySize: 0\`. Hits: ${m.generator}, ${m.connections} connections, ${m.hitRounds} rounds of ${m.seconds} s against one instance (medians). Reach: \`revalidateTag('bench', { expire: 0 })\` in a route handler of instance A, then the page on instance B until it shows the new value, ${r.results?.cachegraph?.revalidation?.rounds ?? '?'} times. The handlers take turns${m.loadAverage ? `; load average ${m.loadAverage.join(', ')} at the end` : ''}.`,
    '',
  )
  const rows = Object.entries(r.results ?? {}).map(([handler, x]) => [
    handler === 'fortedigital'
      ? `@fortedigital/nextjs-cache-handler ${m.fortedigital ?? ''}`
      : handler,
    x.hit?.requestsPerSecondRange
      ? `${int(x.hit.requestsPerSecond)} (${int(x.hit.requestsPerSecondRange.min)}–${int(x.hit.requestsPerSecondRange.max)})`
      : int(x.hit?.requestsPerSecond),
    ms(x.hit?.latencyP50Ms),
    ms(x.hit?.latencyP99Ms),
    ms(x.revalidation?.medianMs),
    ms(x.revalidation?.p95Ms),
  ])
  out.push(
    table(
      [
        'handler',
        'hit req/s (min–max)',
        'hit p50 ms',
        'hit p99 ms',
        'reach median ms',
        'reach p95 ms',
      ],
      rows,
      ['l', 'r', 'r', 'r', 'r', 'r'],
    ),
  )
  const alone = Object.entries(r.results ?? {}).filter(([, x]) => x.handlerGet)
  if (alone.length > 0) {
    out.push(
      '',
      'The handler alone (`next-handler.js`): its `get()` of the same cached page (~12 kB, tagged) in one process, one after another.',
      '',
      table(
        ['handler', 'get() p50 µs', 'get() p99 µs'],
        alone.map(([handler, x]) => [
          handler === 'fortedigital'
            ? `@fortedigital/nextjs-cache-handler ${m.fortedigital ?? ''}`
            : handler,
          ms(x.handlerGet.getP50Us),
          ms(x.handlerGet.getP99Us),
        ]),
        ['l', 'r', 'r'],
      ),
    )
  }
  return out
}
