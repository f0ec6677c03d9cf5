// Report sections of the in-process scenarios: L1 and getOrSet hits, memoized hits,
// invalidation and the first read after it, the serializer.

import { int, NOT_RUN, ratio, size, SIZES, spread, table, us, x2 } from './format.js'
import { perRoundRatio } from './read.js'

/** Labels of the contestants older result files do not have. */
export const LABELS = {
  'lru-cache.fetch': 'lru-cache fetch hit (fetchMethod)',
  'bentocache.getOrSet': 'bentocache getOrSet hit (memory driver, defaults)',
  'cacheable.getOrSet': 'cacheable getOrSet hit (in-memory primary, defaults)',
}

export function l1Hit(results) {
  const r = results['l1-hit']
  const out = ['### L1 hit (`l1-hit.js`)', '']
  if (!r) return [...out, NOT_RUN('l1-hit')]
  const m = r.method ?? {}
  out.push(
    `${int(m.keys)} keys, ~${m.valueBytes}-byte values, one awaited op at a time; ${m.rounds} rounds ` +
      `of ${int(m.opsPerContestantPerRound)} ops per contestant` +
      (m.opsPerRoundForBentocacheAndCacheable
        ? ` (${int(m.opsPerRoundForBentocacheAndCacheable)} for bentocache and cacheable)`
        : '') +
      '. Ratios: median of per-round ratios (min–max).',
    '',
  )
  const row = (id, baseline, cgId) => {
    const c = r.contestants?.[id]
    if (!c) return [LABELS[id] ?? id, 'not measured in this run', '—', '—']
    const mine = id === cgId ? '—' : spread(perRoundRatio(r, cgId, id))
    return [c.label, int(c.medianOpsPerSec), spread(perRoundRatio(r, id, baseline)), mine]
  }
  const get = [
    'lru-cache.get',
    'bentocache.get',
    'bentocache.get[serialize:false]',
    'cachegraph.get',
  ]
  out.push(
    table(
      ['`get` hit', 'ops/s', '× lru-cache get', 'cachegraph get ÷ it'],
      get.map((id) => row(id, 'lru-cache.get', 'cachegraph.get')),
      ['l', 'r', 'r', 'r'],
    ),
    '',
    '#### getOrSet hit',
    '',
  )
  const getOrSet = [
    'cachegraph.getOrSet',
    'lru-cache.fetch',
    'bentocache.getOrSet',
    'cacheable.getOrSet',
  ]
  out.push(
    table(
      ['getOrSet hit (loader never runs)', 'ops/s', '× lru-cache get', 'cachegraph getOrSet ÷ it'],
      getOrSet.map((id) => row(id, 'lru-cache.get', 'cachegraph.getOrSet')),
      ['l', 'r', 'r', 'r'],
    ),
  )
  return out
}

export function memoHit(results) {
  const r = results['memo-hit']
  const out = ['### Memoized (`wrap`) hit (`memo-hit.js`)', '']
  if (!r) return [...out, NOT_RUN('memo-hit')]
  return [
    ...out,
    table(
      ['cachegraph, same entries', 'ops/s', '× getOrSet hit'],
      [
        ['`getOrSet` hit', int(r.opsPerSec?.getOrSet), '1.00'],
        ['`wrap` hit', int(r.opsPerSec?.wrap), x2(r.ratio)],
      ],
      ['l', 'r', 'r'],
    ),
    '',
    `Median of ${r.method?.rounds} per-round ratios. No competitor here: the figure is what building the key from the arguments costs.`,
  ]
}

export function invalidation(results) {
  const { invalidate: inv, 'l2-hit': l2 } = results
  const out = ['### Invalidation at 1 / 10,000 / 100,000 dependents', '']
  const headers = ['dependents: median µs (p99)', ...SIZES.map(size), '100k ÷ 1']
  const cell = (x) => (x ? `${us(x.medianUs)} (${us(x.p99Us)})` : '—')
  const line = (label, bySize) => [
    label,
    ...SIZES.map((s) => cell(bySize?.[s])),
    bySize?.['1'] && bySize?.['100000']
      ? ratio(bySize['100000'].medianUs / bySize['1'].medianUs)
      : '—',
  ]
  const align = ['l', 'r', 'r', 'r', 'r']
  out.push('In-process (`invalidate.js`, L1 only):', '')
  if (!inv) out.push(NOT_RUN('invalidate'))
  else {
    const competitors = inv.competitors ?? {}
    const rows = [line('cachegraph `invalidate(tag)`', inv.sizes)]
    const competitor = (id, label) =>
      competitors[id]
        ? line(label, competitors[id])
        : [label, 'not measured in this run', '', '', '']
    rows.push(
      competitor('bentocache.deleteByTag', 'bentocache `deleteByTag` (the call; lazy)'),
      competitor('cacheable.tags.invalidateTag', 'cacheable `tags.invalidateTag` (the call; lazy)'),
      competitor('lru-cache+index', 'lru-cache + tag index, deleting dependents'),
    )
    out.push(table(headers, rows, align))
  }
  out.push('', 'On Redis (`l2-hit.js`, `l1: false`):', '')
  if (!l2?.invalidation) out.push(NOT_RUN('l2-hit'))
  else {
    const i = l2.invalidation
    const rows = [line('cachegraph `invalidate(tag)`', i)]
    if (i.rawGetMissing) {
      rows.push(['reference: raw `GET` of a missing key', cell(i.rawGetMissing), '', '', ''])
    }
    out.push(table(headers, rows, align))
  }
  return out
}

export function firstRead(results) {
  const { invalidate: inv, 'l2-hit': l2 } = results
  const out = ['### First read after an invalidation', '']
  out.push('In-process (`invalidate.js`): the first `get` of a dependent, which must miss.', '')
  if (!inv?.firstRead) {
    out.push(inv ? 'not measured in this run' : NOT_RUN('invalidate'))
  } else {
    const fr = inv.firstRead
    const line = (who, label) => [
      label,
      ...SIZES.map((s) =>
        fr[s]?.[who] ? `${us(fr[s][who].medianUs)} (${us(fr[s][who].p99Us)})` : '—',
      ),
    ]
    out.push(
      table(
        ['dependents: median µs (p99)', ...SIZES.map(size)],
        [
          line('cachegraph', 'cachegraph `get`'),
          line('bentocache', 'bentocache `get` (does the deferred check)'),
          line('cacheable', 'cacheable `get` (does the deferred check)'),
        ],
        ['l', 'r', 'r', 'r'],
      ),
    )
  }
  out.push(
    '',
    'On Redis (`l2-hit.js`): the first `get` after `invalidate()`, paired with a raw `GET` of a missing key.',
    '',
  )
  if (!l2?.firstRead) out.push(NOT_RUN('l2-hit'))
  else {
    const f = l2.firstRead
    out.push(
      table(
        ['first read', 'median µs', 'p90 µs', '× raw GET'],
        [
          [
            'cachegraph `get`, with bus',
            us(f.cachegraph?.medianUs),
            us(f.cachegraph?.p90Us),
            x2(f.ratio),
          ],
          [
            'cachegraph `get`, no bus',
            us(f.cachegraphNoBus?.medianUs),
            us(f.cachegraphNoBus?.p90Us),
            x2(f.cachegraphNoBus?.medianUs / f.rawGetMissing?.medianUs),
          ],
          [
            'raw `GET` of a missing key',
            us(f.rawGetMissing?.medianUs),
            us(f.rawGetMissing?.p90Us),
            '1.00',
          ],
        ],
        ['l', 'r', 'r', 'r'],
      ),
    )
  }
  return out
}

export function serializer(results) {
  const r = results.serializer
  const out = ['### Serializer (`serializer.js`)', '']
  if (!r) return [...out, NOT_RUN('serializer')]
  const plain = r.opsPerSec?.plain ?? {}
  const rich = r.opsPerSec?.rich ?? {}
  const names = ['JSON', 'richJson', 'superjson', 'devalue']
  return [
    ...out,
    `Round trips (serialize + deserialize), ${r.method?.rounds} rounds; median ops/s.`,
    '',
    table(
      ['value', ...names],
      [
        ['plain JSON data, ops/s', ...names.map((n) => int(plain[n]))],
        ['— ratio to JSON', ...names.map((n) => x2(plain[n] / plain.JSON))],
        ['with Date, Map, Set, BigInt, ops/s', ...names.map((n) => int(rich[n]))],
      ],
      ['l', 'r', 'r', 'r', 'r'],
    ),
  ]
}
