/**
 * @deprecated The Redis store moved to `src/redis/` (`cachegraph/redis` is unchanged). This
 * module only keeps old deep imports working until they move; it is not a public entry point.
 */
export { RedisStore, redisStore } from '../redis/store.js'
export type { RedisStoreOptions } from '../redis/store.js'
