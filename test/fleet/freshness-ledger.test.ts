import { describe, expect, it } from 'vitest'

import { Ledger } from '../../scripts/freshness/ledger.js'
import type { Observation, Source, StaleKind } from '../../scripts/freshness/outcome.js'

/** The judge of the freshness checker (scripts/freshness), on hand-made timelines. */
const ledger = (noBusBoundMs?: number) =>
  new Ledger({ pid: 1, maxSilenceMs: 1000, busSlackMs: 2, noBusBoundMs })

const read = (version: number, source: Source, startedAt: number): Observation => ({
  row: 7,
  version,
  source,
  startedAt,
  pair: false,
  via: 'function',
})

/** The kinds a single judged observation was counted under. */
function verdict(l: Ledger, o: Observation): StaleKind[] {
  l.judge(o)
  const { stale } = l.result()
  return (Object.keys(stale) as StaleKind[]).filter((kind) => stale[kind] > 0)
}

describe('freshness ledger', () => {
  it('a value is fresh unless a newer write resolved before the read began', () => {
    const l = ledger()
    l.add({ row: 7, version: 2, seq: 12, resolvedAt: 100, via: 'api' })
    expect(verdict(l, read(1, 'l2', 100))).toEqual([]) // resolved at the very moment: not before
    expect(verdict(l, read(2, 'l2', 150))).toEqual([])
    expect(verdict(l, read(1, 'l2', 101))).toEqual(['forbidden-l2'])
    expect(l.result().checked).toBe(3)
  })

  it('a stale value from the shared tier or a loader is always forbidden', () => {
    const l = ledger()
    l.add({ row: 7, version: 1, seq: 11, resolvedAt: 10, via: 'api' })
    expect(verdict(l, read(0, 'loader', 11))).toEqual(['forbidden-loader'])
  })

  it('a stale L1 value is allowed until the bus delivered, within maxSilence, while trusted', () => {
    const allowed = ledger()
    allowed.add({ row: 7, version: 1, seq: 11, resolvedAt: 10, via: 'api' })
    allowed.heard(11, 10.5, 11)
    expect(verdict(allowed, read(0, 'l1', 12.5))).toEqual(['allowed-l1']) // within the slack
    const late = ledger()
    late.add({ row: 7, version: 1, seq: 11, resolvedAt: 10, via: 'api' })
    late.heard(11, 10.5, 11)
    expect(verdict(late, read(0, 'l1', 14))).toEqual(['forbidden-l1-after-bus'])
    const unheard = ledger()
    unheard.add({ row: 7, version: 1, seq: 11, resolvedAt: 10, via: 'api' })
    expect(verdict(unheard, read(0, 'l1', 1011))).toEqual(['forbidden-l1-too-old'])
    const distrusted = ledger()
    distrusted.add({ row: 7, version: 1, seq: 11, resolvedAt: 10, via: 'api' })
    expect(verdict(distrusted, read(0, 'l1-distrusted', 11))).toEqual(['forbidden-l1-distrusted'])
  })

  it('after an acknowledged invalidation, even the L1 lag is forbidden', () => {
    const acked = ledger()
    acked.add({ row: 7, version: 1, seq: 11, resolvedAt: 10, via: 'api', acked: true })
    expect(verdict(acked, read(0, 'l1', 10.5))).toEqual(['forbidden-after-ack'])
    const plain = ledger()
    plain.add({ row: 7, version: 1, seq: 11, resolvedAt: 10, via: 'api', acked: false })
    expect(verdict(plain, read(0, 'l1', 10.5))).toEqual(['allowed-l1'])
    // A process without a bus is no member: its lag stays allowed (until the ttl).
    const busless = ledger(5_000)
    busless.add({ row: 7, version: 1, seq: 11, resolvedAt: 10, via: 'api', acked: true })
    expect(verdict(busless, read(0, 'l1', 10.5))).toEqual(['allowed-no-bus'])
  })

  it('any newer invalidation delivered counts, even one that resolved after the read began', () => {
    const l = ledger()
    l.add({ row: 7, version: 1, seq: 11, resolvedAt: 10, via: 'api' })
    l.add({ row: 7, version: 2, seq: 12, resolvedAt: 60, via: 'api' })
    l.heard(12, 20, 21) // published (and delivered) before its writer's call returned
    expect(verdict(l, read(0, 'l1', 30))).toEqual(['forbidden-l1-after-bus'])
  })

  it('without a bus, an L1 value may be stale until the entries ttl', () => {
    const l = ledger(5000)
    l.add({ row: 7, version: 1, seq: 11, resolvedAt: 10, via: 'api' })
    l.heard(11, 10.5, 11)
    expect(verdict(l, read(0, 'l1', 3000))).toEqual(['allowed-no-bus'])
    expect(verdict(l, read(0, 'l1', 6000))).toEqual(['allowed-no-bus', 'forbidden-l1-too-old'])
  })

  it('writes arriving out of order are placed by the time they resolved', () => {
    const l = ledger()
    l.add({ row: 7, version: 3, seq: 13, resolvedAt: 50, via: 'api' })
    l.add({ row: 7, version: 2, seq: 12, resolvedAt: 40, via: 'api' })
    expect(verdict(l, read(2, 'l2', 45))).toEqual([])
    expect(verdict(l, read(2, 'l2', 55))).toEqual(['forbidden-l2'])
    expect(l.result().examples[0]).toMatchObject({ got: 2, expected: 3, lagMs: 5 })
  })
})
