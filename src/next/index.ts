export { createCacheHandler } from './cache-handler.js'
export { createIncrementalCacheHandler } from './incremental-cache-handler.js'
export type { IncrementalCacheHandlerClass } from './incremental-cache-handler.js'
export type { NextCacheOptions } from './options.js'
