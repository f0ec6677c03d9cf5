import { randomUUID } from 'node:crypto'

import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'

import { buildExample, type ExampleBuild, NextInstance, waitFor } from './example-app.js'

/**
 * examples/next built once (`next build`, cached by its sources under node_modules/.cache) and
 * run as two `next start` instances on one Redis: what one instance revalidates, the other stops
 * serving — within the bus bound, and at once with `ack` — and restarts lose nothing.
 */

const redisUrl = inject('redisUrl')
const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 })
const prefixes: string[] = []
const running: NextInstance[] = []
let build: ExampleBuild

// The bus delivers in about a millisecond and its bound is `maxSilence` (1 s); the cap is far
// above both so a busy machine does not fail the test, and far below the hour the entries
// would otherwise live.
const CAP_MS = 15_000

beforeAll(async () => {
  build = await buildExample()
  console.info(`next build: ${build.built ? 'built' : 'cached'} in ${Math.round(build.ms)} ms`)
}, 600_000)

afterAll(async () => {
  await Promise.all(running.splice(0).map((instance) => instance.stop()))
  for (const prefix of prefixes) {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000)
      if (keys.length > 0) await redis.unlink(...keys)
      cursor = next
    } while (cursor !== '0')
  }
  await redis.quit()
}, 60_000)

async function pair(
  ack: boolean,
): Promise<{ prefix: string; one: NextInstance; two: NextInstance }> {
  const prefix = `cgtest-next-${randomUUID()}`
  prefixes.push(prefix)
  const [one, two] = await Promise.all([
    NextInstance.start({ build, redisUrl, prefix, ack }),
    NextInstance.start({ build, redisUrl, prefix, ack }),
  ])
  running.push(one, two)
  return { prefix, one, two }
}

const reads = async (prefix: string) => Number((await redis.get(`${prefix}:db:reads`)) ?? 0)

/** Every page of the example, with the database value it shows and what revalidates it. */
const pages = [
  { path: '/posts', name: 'posts', tags: ['posts'], paths: [] },
  { path: '/price', name: 'price', tags: ['price'], paths: [] },
  { path: '/isr/1', name: 'isr:1', tags: [], paths: ['/isr/1'] },
]

describe('Next.js example: two instances on one Redis', () => {
  describe('without ack', () => {
    it('a tag revalidated through instance 1 is fresh on instance 2 within the bus bound', async () => {
      const { prefix, one, two } = await pair(false)
      for (const page of pages) {
        expect(await one.value(page.path)).toBe('v0')
        expect(await two.value(page.path)).toBe('v0')
      }
      // Both instances now serve every page from the shared cache: no database reads.
      const before = await reads(prefix)
      for (const page of pages) expect(await two.value(page.path)).toBe('v0')
      expect(await reads(prefix)).toBe(before)

      for (const page of pages) {
        // The route handler: Next applies its revalidations just after it answered.
        await one.revalidate({ name: page.name, value: 'v1', tags: page.tags, paths: page.paths })
        const ms = await waitFor(
          async () => (await two.value(page.path)) === 'v1',
          CAP_MS,
          `${page.path} fresh on instance 2`,
        )
        console.info(`${page.path}: fresh on instance 2 ${Math.round(ms)} ms after the response`)
        expect(await one.value(page.path)).toBe('v1')
      }
    }, 120_000)
  })

  describe('with ack', () => {
    let fleet: Awaited<ReturnType<typeof pair>>
    beforeAll(async () => {
      fleet = await pair(true)
    }, 120_000)

    it('a tag revalidated through instance 1 is fresh on instance 2 at once', async () => {
      const { one, two } = fleet
      for (const page of pages) {
        expect(await two.value(page.path)).toBe('v0')
        expect(await one.value(page.path)).toBe('v0')
      }
      for (const [i, page] of pages.entries()) {
        // The server action: it answers once every instance applied its updateTag/revalidatePath.
        const value = `v${i + 1}`
        await one.save(build, page.name, value, { tags: page.tags, paths: page.paths })
        expect(await two.value(page.path)).toBe(value)
        expect(await one.value(page.path)).toBe(value)
      }
    }, 120_000)

    it('a restarted instance loses nothing: it serves the current values from Redis and honours the revalidations made while it was down', async () => {
      const { prefix, one } = fleet
      let { two } = fleet
      for (const page of pages) {
        await one.save(build, page.name, 'before', { tags: page.tags, paths: page.paths })
        expect(await two.value(page.path)).toBe('before')
        expect(await one.value(page.path)).toBe('before')
      }
      await two.stop()
      // While it is down: /posts changes and is revalidated; the others stay as they were.
      const [posts, ...unchanged] = pages
      await one.save(build, posts!.name, 'while-down', { tags: posts!.tags })
      expect(await one.value(posts!.path)).toBe('while-down')

      const readsBefore = await reads(prefix)
      two = await NextInstance.start({ build, redisUrl, prefix, ack: true, port: two.port })
      running.push(two)
      fleet.two = two
      expect(await two.value(posts!.path)).toBe('while-down')
      for (const page of unchanged) expect(await two.value(page.path)).toBe('before')
      // All of it from the shared cache: the restarted instance read nothing from the database.
      expect(await reads(prefix)).toBe(readsBefore)

      // And it takes part in the fleet again: a revalidation through it reaches instance 1 at once.
      await two.save(build, posts!.name, 'after', { tags: posts!.tags })
      expect(await one.value(posts!.path)).toBe('after')
    }, 180_000)
  })
})
