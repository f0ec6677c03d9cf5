import { afterEach, describe, expect, inject, it } from 'vitest'

import { createCache } from '../../src/index.js'
import { redisStore } from '../../src/redis/store.js'
import { serve, type Served } from '../cli/spawn.js'
import { losePrefix, redisClient, uniquePrefix } from '../helpers/tiers.js'

/** SPEC §5b: the service answers a body at its size limit without dying (a real process). */
const running: Served[] = []
afterEach(() => {
  for (const served of running.splice(0)) {
    if (served.child.exitCode === null) served.child.kill('SIGKILL')
  }
})

/** As many short tags as fit in `bytes` of JSON: `{"tags":["0","1",...,"a",...]}`. */
function tagsWithin(bytes: number): string[] {
  const tags: string[] = []
  let size = '{"tags":[]}'.length
  for (let i = 0; ; i++) {
    const tag = i.toString(36)
    const more = tag.length + 2 + (i > 0 ? 1 : 0)
    if (size + more > bytes) return tags
    tags.push(tag)
    size += more
  }
}

describe('cachegraph serve and a body at its size limit', () => {
  it('invalidates the ~140,000 short tags of one 1 MB request, answers 200 and keeps running', async () => {
    const prefix = uniquePrefix()
    const served = await serve(['--insecure', '--redis', inject('redisUrl'), '--prefix', prefix])
    running.push(served)
    const store = redisStore({ client: redisClient(), prefix })
    const cache = createCache({ store, l1: false })
    try {
      const tags = tagsWithin(1_048_576)
      expect(tags.length).toBeGreaterThan(130_000)
      await cache.set('last', 'v', { tags: [tags[tags.length - 1] as string] })
      const body = JSON.stringify({ tags })
      expect(Buffer.byteLength(body)).toBeLessThanOrEqual(1_048_576)
      const answer = await fetch(`${served.url}/cache/invalidate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      })
      expect(answer.status).toBe(200)
      expect(await answer.json()).toMatchObject({ status: 'invalidated' })
      expect(await cache.get('last')).toBeUndefined()
      // Still alive and answering afterwards (it used to die a second later).
      const again = await fetch(`${served.url}/cache/invalidate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ tags: ['one-more'] }),
      })
      expect(again.status).toBe(200)
      // A tag too large to record is refused up front: 413, nothing recorded.
      const huge = await fetch(`${served.url}/cache/invalidate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ tags: ['x'.repeat(70_000)] }),
      })
      expect(huge.status).toBe(413)
      expect(await huge.json()).toMatchObject({ code: 'E_TOO_LARGE' })
      expect((await fetch(`${served.url}/health`)).status).toBe(200)
      expect(served.child.exitCode).toBeNull()
    } finally {
      await cache.close()
      await losePrefix(store)
    }
  }, 60_000)
})
