import { describe, expect, it } from 'vitest'

import { MemoryStore } from '../../src/stores/memory.js'
import type { StoreEntry } from '../../src/stores/store.js'

const entry = (key: string): StoreEntry => ({
  key,
  payload: `0,1,1,v,\n${key}`,
  tags: [],
  start: undefined,
  keyTag: `@key:${key}`,
  ttlMs: 60_000,
})

async function listAll(
  store: MemoryStore,
  count: number,
  between: (page: string[]) => Promise<void> = async () => {},
): Promise<string[]> {
  const seen: string[] = []
  let cursor = '0'
  do {
    const page = await store.scan({ match: '*', count, cursor })
    const keys = page.keys.map((k) => k.key)
    seen.push(...keys)
    cursor = page.cursor
    await between(keys)
  } while (cursor !== '0')
  return seen
}

/** `scan` pages with a cursor that entries leaving (or coming back) between pages cannot shift. */
describe('MemoryStore.scan', () => {
  it('skips no key when the entries before the cursor leave between pages', async () => {
    // Room for 10: every new entry evicts the oldest, i.e. one already listed.
    const store = new MemoryStore({ maxEntries: 10 })
    const keys = Array.from({ length: 10 }, (_, i) => `k${i}`)
    await store.write(keys.map(entry))
    let round = 0
    const seen = await listAll(store, 3, async (page) => {
      // Only while the first keys are listed (new entries are listed too: no end otherwise).
      if (round++ < 3) await store.write(page.map((key) => entry(`new${round}-${key}`)))
    })
    for (const key of keys) expect(seen).toContain(key)
  })

  it('skips no key when a listed entry is rewritten between pages', async () => {
    const store = new MemoryStore()
    const keys = Array.from({ length: 50 }, (_, i) => `k${i}`)
    await store.write(keys.map(entry))
    let round = 0
    const seen = await listAll(store, 7, async (page) => {
      // A rewrite takes the entry out of its place and puts it back at the end (where the
      // listing meets it again: a key may repeat, none may be missed).
      if (round++ < 3) await store.write(page.slice(0, 2).map(entry))
    })
    for (const key of keys) expect(seen).toContain(key)
  })

  it('pages through an unchanged store once, then ends', async () => {
    const store = new MemoryStore()
    const keys = Array.from({ length: 20 }, (_, i) => `k${i}`)
    await store.write(keys.map(entry))
    expect(await listAll(store, 6)).toEqual(keys)
    expect(await listAll(store, 20)).toEqual(keys)
    expect(await listAll(store, 100)).toEqual(keys)
  })
})
