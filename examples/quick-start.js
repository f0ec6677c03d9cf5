// A runnable tour of cachegraph: node examples/quick-start.js (after npm ci, which builds dist/).
import { createCache, dependsOn, entityTag } from 'cachegraph'

const db = {
  users: new Map([
    [1, { id: 1, name: 'Ada', teamId: 7 }],
    [2, { id: 2, name: 'Grace', teamId: 7 }],
  ]),
  reads: 0,
}

const cache = createCache({ namespace: 'demo', ttl: '5m' })

async function getUser(id) {
  return cache.getOrSet(`user:${id}`, async () => {
    dependsOn(entityTag('user', id))
    db.reads++
    return { ...db.users.get(id) }
  })
}

async function getTeam(teamId) {
  // Nested cached calls pass their tags up: the team depends on each member.
  return cache.getOrSet(`team:${teamId}`, async () => {
    const ids = [...db.users.values()].filter((u) => u.teamId === teamId).map((u) => u.id)
    return { teamId, members: await Promise.all(ids.map(getUser)) }
  })
}

console.log('first read  :', JSON.stringify(await getTeam(7)), `(db reads: ${db.reads})`)
console.log('second read :', JSON.stringify(await getTeam(7)), `(db reads: ${db.reads})`)

db.users.get(2).name = 'Grace Hopper'
const { seq } = await cache.invalidateEntity('user', 2)
console.log(`invalidated user:2 at seq ${seq}`)

console.log('after write :', JSON.stringify(await getTeam(7)), `(db reads: ${db.reads})`)
console.log('stats       :', JSON.stringify(cache.stats()))
await cache.close()
