// `cacheHandlers` in next.config: 'use cache' and 'use cache: remote'.
import { createCacheHandler } from 'cachegraph/next'

import { ack, cache } from './cache.mjs'

export default createCacheHandler({ cache, ack })
