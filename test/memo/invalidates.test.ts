import { describe, expect, it } from 'vitest'

import { createCache, memoryStore } from '../../src/index.js'
import { deferred, settle } from '../helpers/deferred.js'

describe('invalidates: mutation wrappers', () => {
  const setup = () => {
    const cache = createCache({ store: memoryStore() })
    const db = new Map<number, string>([[1, 'Ada']])
    let reads = 0
    const getUser = cache.wrap(
      async (id: number) => {
        reads++
        return db.get(id)
      },
      { name: 'getUser', tags: (args) => [`user:${args[0]}`] },
    )
    return { cache, db, getUser, reads: () => reads }
  }

  it('invalidates the named tags before and after the mutation', async () => {
    const { cache, db, getUser } = setup()
    await getUser(1)
    const seen: string[] = []
    cache.on('invalidate', (e) => seen.push(e.tags.join()))
    const rename = cache.invalidates(
      async (id: number, name: string) => {
        seen.push('mutation')
        db.set(id, name)
      },
      { tags: (args) => [`user:${args[0]}`] },
    )
    await rename(1, 'Ada L.')
    expect(seen).toEqual(['user:1', 'mutation', 'user:1'])
    expect(await getUser(1)).toBe('Ada L.')
  })

  it('a refill during the write does not survive the write', async () => {
    const { cache, db, getUser } = setup()
    const writing = deferred<void>()
    const update = cache.invalidates(
      async (id: number, name: string) => {
        await writing.promise // the write is in progress ...
        db.set(id, name)
      },
      { entries: [[getUser, (id) => [id]]] },
    )
    const pending = update(1, 'new')
    await settle()
    expect(await getUser(1)).toBe('Ada') // ... a reader refills from the old data meanwhile
    writing.resolve()
    await pending
    expect(await getUser(1)).toBe('new') // the second pass voided the refill
  })

  it('a failing mutation still invalidates and rethrows', async () => {
    const { cache, getUser, reads } = setup()
    await getUser(1)
    const failure = new Error('db down')
    const update = cache.invalidates(
      async (_id: number) => {
        throw failure
      },
      { entries: [getUser] },
    )
    await expect(update(1)).rejects.toBe(failure)
    await getUser(1)
    expect(reads()).toBe(2)
  })

  it('maps mutation arguments to memoized calls; clearAll clears whole functions', async () => {
    const { cache, getUser, reads } = setup()
    await getUser(1)
    const save = cache.invalidates(async (user: { id: number; name: string }) => user, {
      entries: [[getUser, (user) => [user.id]]],
    })
    await save({ id: 1, name: 'x' })
    await getUser(1)
    expect(reads()).toBe(2)
    const rebuild = cache.invalidates(async () => 'rebuilt', { entries: [getUser], clearAll: true })
    await rebuild()
    await getUser(1)
    expect(reads()).toBe(3)
  })

  it('the seeds’ decorator form: fn.invalidator(mapArgs)', async () => {
    const { db, getUser, reads } = setup()
    await getUser(1)
    const updateItem = getUser.invalidator((id: number, _name: string) => [id])(async (
      id: number,
      name: string,
    ) => {
      db.set(id, name)
    })
    await updateItem(1, 'changed')
    expect(await getUser(1)).toBe('changed')
    expect(reads()).toBe(2)
  })

  it('an invalidation that cannot be recorded stops the mutation before it runs', async () => {
    const failing = memoryStore()
    failing.invalidate = () => Promise.reject(new Error('store down'))
    const cache = createCache({ store: failing })
    let ran = false
    const update = cache.invalidates(async () => (ran = true), { tags: ['t'] })
    await expect(update()).rejects.toMatchObject({ code: 'E_INVALIDATION_NOT_RECORDED' })
    expect(ran).toBe(false)
  })
})
