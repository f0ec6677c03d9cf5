// The benchmark page's "database": one value in Redis.
import { Redis } from 'ioredis'

const client = () =>
  (globalThis.benchDb ??= new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'))
const key = () => `${process.env.BENCH_PREFIX ?? 'bench-next'}:db:value`

export const read = async () => (await client().get(key())) ?? 'v0'
export const write = (value) => client().set(key(), value)
