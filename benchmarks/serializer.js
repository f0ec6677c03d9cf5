// The shared-tier serializer: cachegraph's richJson against superjson and devalue (both keep
// Date/Map/Set/BigInt), with plain JSON as the floor. Round trips (serialize + deserialize) of
// two values: a ~1 KB plain-JSON object (the common case) and one with Dates, a Map, a Set and
// a BigInt. Interleaved rounds, median ops/s and median ratios to JSON.
import { richJson } from 'cachegraph'
import * as devalue from 'devalue'
import superjson from 'superjson'

import { describe, environment, median, positiveInt, writeResult } from './lib.js'

const ROUNDS = positiveInt(process.env.BENCH_ROUNDS, 15)
const OPS = positiveInt(process.env.BENCH_OPS, 20_000)

const plain = {
  id: 42,
  name: 'Ada Lovelace',
  email: 'ada@example.com',
  roles: ['admin', 'writer', 'reader'],
  profile: {
    bio: 'x'.repeat(400),
    links: Array.from({ length: 8 }, (_, i) => `https://example.com/${i}`),
  },
  counters: Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`c${i}`, i * 17])),
}
const rich = {
  ...plain,
  createdAt: new Date(1_700_000_000_000),
  seen: new Set(['a', 'b', 'c']),
  scores: new Map([
    ['math', 9],
    ['art', 7],
  ]),
  big: 12345678901234567890n,
}

const contestants = {
  JSON: { serialize: JSON.stringify, deserialize: JSON.parse, rich: false },
  richJson: {
    serialize: (v) => richJson.serialize(v),
    deserialize: (t) => richJson.deserialize(t),
    rich: true,
  },
  superjson: {
    serialize: (v) => superjson.stringify(v),
    deserialize: (t) => superjson.parse(t),
    rich: true,
  },
  devalue: {
    serialize: (v) => devalue.stringify(v),
    deserialize: (t) => devalue.parse(t),
    rich: true,
  },
}

// Every rich contestant must round-trip the rich value exactly before it is timed.
for (const [name, c] of Object.entries(contestants)) {
  if (!c.rich) continue
  const back = c.deserialize(c.serialize(rich))
  if (!(back.createdAt instanceof Date) || !(back.seen instanceof Set) || back.big !== rich.big) {
    throw new Error(`${name} did not round-trip the rich value`)
  }
}

function time(c, value) {
  const t0 = process.hrtime.bigint()
  let sink = 0
  for (let i = 0; i < OPS; i++) sink += c.deserialize(c.serialize(value)).id
  if (sink !== 42 * OPS) throw new Error('bad round trip')
  return OPS / (Number(process.hrtime.bigint() - t0) / 1e9)
}

const results = {}
for (const [label, value] of [
  ['plain', plain],
  ['rich', rich],
]) {
  const names = Object.keys(contestants).filter((n) => label === 'plain' || contestants[n].rich)
  const samples = Object.fromEntries(names.map((n) => [n, []]))
  for (let round = -1; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse()
    for (const n of order) {
      const opsPerSec = time(contestants[n], value)
      if (round >= 0) samples[n].push(opsPerSec)
    }
  }
  results[label] = Object.fromEntries(names.map((n) => [n, median(samples[n])]))
}

const env = environment()
console.log(`\nserializer round trips (serialize + deserialize), ${describe(env)}`)
for (const [label, byName] of Object.entries(results)) {
  const base = byName.JSON ?? byName.richJson
  console.log(`\n${label} value (${JSON.stringify(plain).length} bytes as JSON)`)
  for (const [n, ops] of Object.entries(byName)) {
    console.log(
      `  ${n.padEnd(10)} ${Math.round(ops).toLocaleString('en-US').padStart(10)} ops/s  ${(ops / base).toFixed(2)} x ${byName.JSON ? 'JSON' : 'richJson'}`,
    )
  }
}
writeResult('serializer', {
  benchmark: 'serializer',
  ...env,
  method: { rounds: ROUNDS, opsPerRound: OPS },
  opsPerSec: results,
})
