import { LRUCache } from 'lru-cache'
import { createCache } from 'cachegraph'
const KEYS = 100_000
const keys = Array.from({ length: KEYS }, (_, i) => `user:${i}`)
const ids = Array.from({ length: KEYS }, (_, i) => i).sort(() => Math.random() - 0.5)
const order = ids.map((i) => keys[i])
const a = new LRUCache({ max: 200_000, ttl: 300_000 })
const cg = createCache({ ttl: '5m', l1: { maxEntries: 200_000 } })
for (let i = 0; i < KEYS; i++) { const v = { id: i, name: `User ${i}` }; a.set(keys[i], v); await cg.set(keys[i], v, { tags: [`user:${i}`, `org:${i % 100}`, 'all'] }) }
const variants = {
  'lru pre-built keys': async () => { let s = 0; for (let j = 0; j < KEYS; j++) s += (await a.get(order[j])).id; return s },
  'cg pre-built keys': async () => { let s = 0; for (let j = 0; j < KEYS; j++) s += (await cg.get(order[j])).id; return s },
  'lru fresh keys (`user:${id}`)': async () => { let s = 0; for (let j = 0; j < KEYS; j++) s += (await a.get(`user:${ids[j]}`)).id; return s },
  'cg fresh keys (`user:${id}`)': async () => { let s = 0; for (let j = 0; j < KEYS; j++) s += (await cg.get(`user:${ids[j]}`)).id; return s },
}
const res = {}
for (let r = 0; r < 14; r++) for (const [name, fn] of Object.entries(variants)) { const t = performance.now(); await fn(); const ops = KEYS / (performance.now() - t) * 1000; if (r >= 2) (res[name] ??= []).push(ops) }
for (const [n, xs] of Object.entries(res)) { xs.sort((x, y) => x - y); console.log(n.padEnd(40), Math.round(xs[xs.length >> 1]).toLocaleString()) }
