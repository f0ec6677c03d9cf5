// `cacheHandler` in next.config: ISR pages, route handlers and the fetch cache.
import { createIncrementalCacheHandler } from 'cachegraph/next'

import { ack, cache } from './cache.mjs'

export default createIncrementalCacheHandler({ cache, ack })
