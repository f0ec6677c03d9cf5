export { Cache } from './cache/cache.js'
export { createCache } from './cache/create-cache.js'
export type { Duration } from './util/duration.js'
export type { CacheEventName, CacheEvents, Tier } from './cache/events.js'
export { richJson } from './cache/serializer.js'
export type { Serializer } from './cache/serializer.js'
export type { BusStats, CacheStats } from './cache/stats.js'
export type { FleetAck } from './cache/model/fleet-acks.js'
export { collectionTag, entityTag } from './cache/tags.js'
export type { Clock } from './clock.js'
export { CacheError, isCacheError } from './errors.js'
export type { CacheErrorCode } from './errors.js'
export type { Logger, LogFn } from './warnings.js'
export { currentDependencies, dependsOn } from './cache/model/frame.js'
export type { Dependencies } from './cache/model/frame.js'
export { entityTags, resultEntityTags } from './memo/entities.js'
export type { EntityOptions } from './memo/entities.js'
export type { GetOrSetManyOptions } from './cache/ops/many.js'
export type { ListedKey, ListKeysOptions } from './cache/ops/keys.js'
export type { LoadMany, ManyResult } from './memo/batch.js'
export type { LoopDetectionOptions, LoopKind, SessionOptions } from './cache/ops/session.js'
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
  FleetAsked,
  Store,
  StoreAckRequest,
  StoreEntry,
  StoreInvalidateOptions,
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
  CacheSettings,
  EntryInfo,
  GetOrSetOptions,
  InvalidationResult,
  L1Options,
  Loader,
  LoaderContext,
  SetManyEntry,
  SetOptions,
} from './types/options.js'
export type { Bus, BusConnection, BusHandlers, BusMember, BusMessage } from './bus/bus.js'
export type { BusMember as FleetMember } from './bus/bus.js'
