export { createHttpCache, HttpCache } from './http-cache.js'
export { bodyOf, Capture, exchangeOf, isRead, isWrite } from './capture.js'
export { DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_MIN_REFRESH_MS, DEFAULT_STATUSES } from './options.js'
export { MAX_LEARNED_VARY } from './route.js'
export type { HttpRoute } from './route.js'
export { ANALYTICS_COOKIES } from './cookies.js'
export type {
  HttpCacheOptions,
  HttpErrorContext,
  RouteCacheOptions,
  VaryBy,
  WriteResponse,
} from './options.js'
export type {
  CacheStatus,
  CapturedResponse,
  HttpExchange,
  ReplayResponse,
  ServeOutcome,
  ServePort,
  StoredResponse,
} from './types.js'
export type { HeaderValue, StoredHeaders } from './headers.js'
export { headerText } from './headers.js'
export { buildKey, MAX_KEY_LENGTH } from './key.js'
export { exactTag, singularize, subtreeTag, TAG_PREFIX } from './tags.js'
export type { EntityTypes, InvalidationMode } from './tags.js'
export { canonicalPath, canonicalQuery, splitUrl, strictEncode } from './url.js'
export * from './admin/index.js'
export type { EventHubOptions } from './dashboard/event-hub.js'
export * from './metrics.js'
export {
  BROWSER_CACHE_CONTROL,
  BUCKETS,
  bucketTag,
  CDN_VENDORS,
  cloudflarePurger,
  edgeTags,
  encodeTag,
  FASTLY_MAX_KEYS_PER_REQUEST,
  fastlyPurger,
  PRIVATE_CACHE_CONTROL,
  purgeTags,
  varnishPurger,
  VENDORS,
} from './cdn/index.js'
export type {
  CdnOption,
  CdnOptions,
  CdnVendor,
  CloudflarePurgerOptions,
  EdgeInfo,
  FastlyPurgerOptions,
  Purger,
  PurgeRetryOptions,
  VarnishPurgerOptions,
  VendorProfile,
} from './cdn/index.js'
