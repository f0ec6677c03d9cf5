import { createCache } from 'cachegraph'
import { redisStore } from 'cachegraph/redis'
import { Redis } from 'ioredis'
const client = new Redis()
const admin = new Redis()
const cache = createCache({ ttl: '10m', l1: false, store: redisStore({ client, prefix: 'sc-test' }) })
const v = { a: 'x'.repeat(1000) }
for (let i = 0; i < 1000; i++) await cache.set('k' + i, v, { tags: ['item:' + i, 'group:' + (i % 100), 'all'] })
await admin.config('RESETSTAT')
const t0 = performance.now()
let next = 0
await Promise.all(Array.from({ length: 64 }, async () => { while (next < 50000) { const i = next++ % 1000; await cache.get('k' + i) } }))
const ms = performance.now() - t0
console.log('ops/s', Math.round(50000 / ms * 1000))
console.log((await admin.info('commandstats')).split('\n').filter(l => /evalsha|hmget/.test(l)).join('\n'))
await admin.config('RESETSTAT')
const t1 = performance.now(); next = 0
await Promise.all(Array.from({ length: 64 }, async () => { while (next < 50000) { const i = next++ % 1000; const r = await client.hmget('sc-test:e:k' + i, 'p', 's', 't', 'u'); JSON.parse(r[0].slice(1)) } }))
console.log('hmget ops/s', Math.round(50000 / (performance.now() - t1) * 1000))
console.log((await admin.info('commandstats')).split('\n').filter(l => /evalsha|hmget/.test(l)).join('\n'))
await cache.close(); await client.quit(); await admin.quit()
