import { describe, expect, it } from 'vitest'

import { PIPELINE_FROM, TickBatch } from '../../src/util/tick-batch.js'

/** A batch whose run records the keys of each call and answers each key with its upper case. */
function recorder(maxKeys?: number, fail?: (keys: string[]) => boolean) {
  const calls: string[][] = []
  const batch = new TickBatch<string[]>(
    async (keys) => {
      calls.push(keys)
      if (fail?.(keys) === true) throw new Error(`failed ${keys.join(',')}`)
      return keys.map((key) => key.toUpperCase())
    },
    (result, from, count) => result.slice(from, from + count),
    maxKeys,
  )
  return { calls, batch }
}

const keys = (n: number, prefix = 'k') => Array.from({ length: n }, (_, i) => `${prefix}${i}`)

describe('TickBatch', () => {
  it('merges the calls of one tick below PIPELINE_FROM keys into one call', async () => {
    const { calls, batch } = recorder()
    const asked = keys(PIPELINE_FROM - 1)
    const answers = await Promise.all(asked.map((key) => batch.load([key])))
    expect(calls).toEqual([asked])
    expect(answers).toEqual(asked.map((key) => [key.toUpperCase()]))
  })

  it('sends a tick of PIPELINE_FROM keys or more as two halves, each caller answered from its own', async () => {
    for (const n of [PIPELINE_FROM, PIPELINE_FROM + 1, 64, 65]) {
      const { calls, batch } = recorder()
      const asked = keys(n)
      const answers = await Promise.all(asked.map((key) => batch.load([key])))
      expect(calls.map((call) => call.length)).toEqual([Math.ceil(n / 2), n - Math.ceil(n / 2)])
      expect(calls.flat()).toEqual(asked)
      expect(answers).toEqual(asked.map((key) => [key.toUpperCase()]))
    }
  })

  it('never splits one caller between calls, and keeps to maxKeys', async () => {
    const { calls, batch } = recorder(10)
    const groups = [keys(7, 'a'), keys(7, 'b'), keys(3, 'c'), keys(12, 'd')]
    const answers = await Promise.all(groups.map((group) => batch.load(group)))
    // 29 keys: halves of at most 15, within maxKeys 10; the 12-key caller goes alone.
    expect(calls).toEqual([groups[0], [...groups[1]!, ...groups[2]!], groups[3]])
    expect(answers).toEqual(groups.map((group) => group.map((key) => key.toUpperCase())))
  })

  it('rejects the callers of a failed call only', async () => {
    const { batch } = recorder(undefined, (call) => call.includes('k0'))
    const results = await Promise.allSettled(keys(20).map((key) => batch.load([key])))
    const rejected = results.map((result) => result.status === 'rejected')
    expect(rejected).toEqual(keys(20).map((_, i) => i < 10))
  })

  it('starts a new batch in the next tick', async () => {
    const { calls, batch } = recorder()
    await batch.load(['a'])
    await batch.load(['b'])
    expect(calls).toEqual([['a'], ['b']])
  })
})
