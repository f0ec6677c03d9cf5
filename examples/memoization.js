// Runnable companion of docs/memoization.md: node examples/memoization.js (after npm ci).
import { createCache, dependsOn } from 'cachegraph'

const cache = createCache({ namespace: 'memo-demo', ttl: '10m' })
const db = {
  users: new Map([
    ['1', { id: 1, name: 'Ada', teamId: 7 }],
    ['2', { id: 2, name: 'Grace', teamId: 7 }],
  ]),
  queries: 0,
}

// 1. Memoize a function; entity: 'user' tags every user object found in the result.
const getUser = cache.wrap(
  async (id) => {
    db.queries++
    return { ...db.users.get(id) }
  },
  { name: 'getUser', entity: 'user' },
)

// 2. Nested memoized calls pass their tags up, hit or miss.
const getTeam = cache.wrap(
  async (teamId) => {
    dependsOn(`team:${teamId}`)
    const ids = [...db.users.keys()].filter((id) => db.users.get(id).teamId === teamId)
    return { teamId, members: await Promise.all(ids.map((id) => getUser(id))) }
  },
  { name: 'getTeam' },
)

// 3. A mutation that invalidates before and after it runs.
const renameUser = cache.invalidates(
  async (id, name) => {
    db.users.get(id).name = name
  },
  { entries: [[getUser, (id) => [id]]] },
)

// 4. Batching: concurrent misses become one loadMany call.
const loadScores = cache.batch(async (ids) => {
  db.queries++
  return Object.fromEntries(ids.map((id) => [id, id.length * 10]))
})

await getTeam(7)
await getTeam(7)
console.log('queries after two team reads:', db.queries) // 2: one per user

await renameUser('2', 'Grace Hopper')
console.log('team after rename:', (await getTeam(7)).members.map((m) => m.name).join(', '))
console.log('queries:', db.queries) // 3: only user 2 was reloaded

await cache.invalidateEntity('user', 1) // entity tag: drops getUser('1') and the team
await getTeam(7)
console.log('queries after invalidating user 1:', db.queries) // 4

const scores = await Promise.all(['a', 'bb', 'ccc'].map((id) => loadScores(id)))
console.log('scores:', scores.join(', '), '- queries:', db.queries) // one batch query

// 5. Sessions: private, L1-only entries and a guard against tool loops.
const search = cache.wrap(async (q) => `results for ${q}`, { name: 'search', scope: 'session' })
try {
  await cache.session(
    'agent-run-1',
    async () => {
      for (let i = 0; i < 10; i++) await search('same question')
    },
    { loopDetection: { maxRepeats: 3 } },
  )
} catch (error) {
  console.log('loop stopped:', error.code)
}
await cache.close()
