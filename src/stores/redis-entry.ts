export { RedisClusterStore } from './redis-cluster.js'
export { RedisStore, redisStore } from './redis.js'
export type { RedisStoreOptions } from './redis.js'
