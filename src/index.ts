export { Cache } from './cache/cache.js'
export { createCache } from './cache/create-cache.js'
export type { SetManyEntry } from './cache/cache.js'
export type { Duration } from './cache/duration.js'
export type { CacheEventName, CacheEvents, Tier } from './cache/events.js'
export { richJson } from './cache/serializer.js'
export type { Serializer } from './cache/serializer.js'
export type { BusStats, CacheStats } from './cache/stats.js'
export type { FleetAck } from './cache/fleet-acks.js'
export { collectionTag, entityTag } from './cache/tags.js'
export type { Clock } from './clock.js'
export { CacheError, isCacheError } from './errors.js'
export type { CacheErrorCode } from './errors.js'
export { dependsOn } from './memo/context.js'
export type { EntityOptions } from './memo/entities.js'
export type { GetOrSetManyOptions } from './cache/get-or-set-many.js'
export type { ListedKey, ListKeysOptions } from './cache/list-keys.js'
export type { LoadMany, ManyResult } from './memo/batch.js'
export type { LoopDetectionOptions, LoopKind, SessionOptions } from './memo/session.js'
export type {
  BatchOptions,
  EntitySpec,
  InvalidatesOptions,
  Memoized,
  WrapOptions,
} from './types/memo.js'
export { MemoryStore, memoryStore } from './stores/memory.js'
export type { MemoryStoreOptions } from './stores/memory.js'
export type {
  Store,
  StoreEntry,
  StoreInvalidateResult,
  StoreReadResult,
  StoreScanOptions,
  StoreScanPage,
  StoreWriteOptions,
  StoreWriteResult,
  StoredRecord,
  TagSeq,
} from './stores/store.js'
export type {
  CacheOptions,
  EntryInfo,
  GetOrSetOptions,
  InvalidationResult,
  L1Options,
  Loader,
  LoaderContext,
  SetOptions,
} from './types/options.js'
export type { Bus, BusConnection, BusHandlers, BusMessage } from './bus/bus.js'
