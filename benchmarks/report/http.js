// Report sections of HTTP: cached GETs per framework, the invalidation service under load,
// memory per cached response.

import { int, NOT_RUN, table, x2 } from './format.js'

export function http(results) {
  const r = results.http
  const out = ['### Cached HTTP GET (`http.js`)', '']
  if (!r) return [...out, NOT_RUN('http')]
  const m = r.method ?? {}
  const generator = m.generator ?? 'autocannon'
  out.push(
    `${generator}${m.threads && generator === 'wrk' ? ` (${m.threads} thread)` : ''}, ${m.connections} connections, ${m.rounds} rounds of ${m.seconds} s per route, ~${m.bodyBytes}-byte JSON body; req/s are medians, ratios the median of per-round ratios (min–max).`,
    '',
  )
  if (generator !== 'wrk') {
    out.push(
      `> Not the reference: SPEC §7 measures with wrk. ${m.wrkMissing ?? 'This file predates the wrk runs.'}`,
      '',
    )
  }
  const rows = Object.entries(r.results ?? {}).map(([fw, x]) => {
    const rps = x.requestsPerSecond ?? {}
    const range = x.cachedVsConstRange
    return [
      fw,
      int(rps['/const']),
      int(rps['/cached/const']),
      range ? `${x2(x.cachedVsConst)} (${x2(range.min)}–${x2(range.max)})` : x2(x.cachedVsConst),
      int(rps['/origin']),
      int(rps['/cached/origin']),
      x2(x.cachedVsOrigin),
    ]
  })
  out.push(
    table(
      [
        'framework',
        'constant req/s',
        'cached req/s',
        'cached ÷ constant',
        '2 ms origin req/s',
        'cached origin req/s',
        'cached ÷ origin',
      ],
      rows,
      ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  )
  return out
}

export function serviceLoad(results) {
  const r = results['service-load']
  const out = ['### Invalidation service under load (`service-load.js`)', '']
  if (!r) return [...out, NOT_RUN('service-load')]
  const rows = Object.entries(r.results ?? {}).map(([store, x]) => [
    store,
    int(x.requestsPerSecond),
    String(x.latencyP50),
    String(x.latencyP99),
    int(x.non2xx),
    int(x.errors),
  ])
  return [
    ...out,
    `autocannon, 10 connections, ${r.seconds} s of \`POST /cache/invalidate\`.`,
    '',
    table(['store', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors'], rows, [
      'l',
      'r',
      'r',
      'r',
      'r',
      'r',
    ]),
  ]
}

export function httpMemory(results) {
  const r = results['http-memory']
  const out = ['### Memory per cached HTTP response (`http-memory.js`)', '']
  if (!r) return [...out, NOT_RUN('http-memory')]
  const subjects = Object.entries(r.results ?? {})
  const baseline = subjects.find(([label]) => label.includes('lru-cache'))
  const base = baseline?.[1].bytesPerResponse
  out.push(
    `${int(r.responses)} cached responses of ${int(r.bodyBytes)} bytes; bytes retained per response` +
      (baseline ? `, ratio to \`${baseline[0]}\`.` : ' (no lru-cache baseline in the file).'),
    '',
    table(
      ['label', 'bytes per response', 'heap', 'external', '× lru-cache'],
      subjects.map(([label, x]) => [
        label,
        int(x.bytesPerResponse),
        int(x.heapBytesPerResponse),
        int(x.externalBytesPerResponse),
        base ? x2(x.bytesPerResponse / base) : '—',
      ]),
      ['l', 'r', 'r', 'r', 'r'],
    ),
  )
  return out
}
