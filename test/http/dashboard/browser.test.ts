import { mkdirSync } from 'node:fs'
import { join } from 'node:path'

import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import type { Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

import { cachegraph } from '../../../src/adapters/fastify.js'
import type { Cache } from '../../../src/index.js'
import { hasChromium, launch, watchErrors } from './browser.js'
import { smallFleet } from './fleet-fixture.js'

/**
 * The dashboard in a real browser (Debian's Chromium, headless): it loads with no console error,
 * lists keys with their tags, shows an invalidation in its feed within a second of it happening
 * (elsewhere in the fleet too), drives invalidations and deletions, and is refused without
 * authorization. With DASHBOARD_SCREENSHOTS=<dir> it saves the screenshots of docs/dashboard.md.
 */
// The app's own session cookie: what a browser sends with every request, the event stream too.
const SESSION = 'admin-session=dashboard-test-key'
const SCREENSHOTS = process.env.DASHBOARD_SCREENSHOTS

async function app(cache: Cache, authorize: (request: FastifyRequest) => boolean) {
  // Chromium opens sockets ahead of requests; Node counts them as neither idle nor in use, so a
  // plain close() would wait for their headers timeout. (Open event streams end on close either
  // way: adapters.test.ts checks that with the default close.)
  const server = Fastify({ forceCloseConnections: true })
  await server.register(cachegraph, {
    cache,
    // Screenshots want a chart with a line: stats come faster then.
    admin: {
      authorize,
      events: { tickMs: SCREENSHOTS === undefined ? 2_000 : 200 },
    },
  })
  server.get('/', async () => 'shop')
  await server.listen({ port: 0, host: '127.0.0.1' })
  const address = server.server.address() as { port: number }
  return { server, url: `http://127.0.0.1:${address.port}` }
}

describe.skipIf(!hasChromium)(
  'dashboard in Chromium (skipped: /usr/bin/chromium is absent; apt-get install chromium)',
  () => {
    let browser: Awaited<ReturnType<typeof launch>>
    const servers: FastifyInstance[] = []
    beforeAll(async () => {
      browser = await launch()
    })
    afterAll(async () => {
      await browser?.close()
    })
    afterEach(async () => {
      await Promise.all(servers.splice(0).map((server) => server.close()))
      await Promise.all(browser.context.pages().map((page) => page.close()))
    })

    async function open(): Promise<{
      page: Page
      errors: string[]
      fleet: Awaited<ReturnType<typeof smallFleet>>
    }> {
      const fleet = await smallFleet()
      const { server, url } = await app(
        fleet.one.cache,
        (request) => request.headers.cookie === SESSION,
      )
      servers.push(server)
      const [name, value] = SESSION.split('=') as [string, string]
      await browser.context.addCookies([{ name, value, url }])
      const page = await browser.context.newPage()
      const errors = watchErrors(page)
      const response = await page.goto(`${url}/api/cache/ui`)
      expect(response?.status()).toBe(200)
      await page.locator('#connection.ok').waitFor()
      // Every listed key has its details: a test's invalidation then cannot race a row's
      // `GET /keys/:key` into a 404 (shown as "gone", and logged by the browser as an error).
      const ages = page.locator('#keys tr td:nth-child(4)')
      await ages.first().waitFor()
      await expect
        .poll(async () => (await ages.allTextContents()).filter((age) => age === '…').length, {
          timeout: 10_000,
        })
        .toBe(0)
      return { page, errors, fleet }
    }

    it('loads with no console error and lists the keys with their tags, age and size', async () => {
      const { page, errors } = await open()
      const row = page.locator('#keys tr[data-key="user:7:cart"]')
      await row.locator('button.tag', { hasText: 'product:2' }).waitFor()
      await expect.poll(() => row.locator('td').nth(3).textContent()).toMatch(/\d+(\.\d)? (ms|s)$/)
      await page.locator('#keys tr[data-key="/products"]').waitFor()
      await page.locator('#members tr').first().waitFor()
      expect(await page.locator('#members tr').count()).toBe(2)
      await page.locator('#s-bus.ok').waitFor()
      // A tag's dependents: the keys of this process's L1 that depend on it.
      await row.locator('button.tag', { hasText: 'product:1' }).click()
      await page.locator('#dependents li', { hasText: 'product:1' }).waitFor()
      await page.locator('#dependents li', { hasText: 'user:7:cart' }).waitFor()
      // The search takes a pattern.
      await page.fill('#pattern-input', 'product:*')
      await page.click('#keys-form button')
      await page.locator('#keys-note', { hasText: '2 keys' }).waitFor()
      expect(await page.locator('#keys tr').count()).toBe(2)
      if (SCREENSHOTS !== undefined) {
        await page.fill('#pattern-input', '')
        await page.click('#keys-form button')
        await page.locator('#keys-note', { hasText: '4 keys' }).waitFor()
        await page.locator('#keys tr[data-key="/products"] button.tag').waitFor()
        await row.locator('button.tag', { hasText: 'product:1' }).click()
        await page.locator('#dependents li', { hasText: 'user:7:cart' }).waitFor()
      }
      expect(errors).toEqual([])
    })

    it('shows an invalidation made in another process of the fleet within a second', async () => {
      const { page, errors, fleet } = await open()
      // `two` shares the store and bus: its invalidation reaches `one` over the bus.
      await fleet.two.cache.invalidate('product:2')
      const fromTwo = page.locator('#feed li.invalidation', { hasText: 'product:2' })
      await fromTwo.locator('.badge.bus').waitFor({ timeout: 1_000 })
      // It names the process that sent it: two's member id, and its pid.
      const sender = (await fleet.two.cache.members()).find((member) => member.self)
      expect(sender?.id).toMatch(/^cachegraph-bus-/)
      expect(await fromTwo.locator('.origin').textContent()).toBe(sender?.id)
      expect(await fromTwo.locator('.badge.bus').textContent()).toBe(
        `bus · from pid ${process.pid}`,
      )
      await fleet.one.cache.invalidate(['catalog', 'product:1'])
      await page
        .locator('#feed li.invalidation', { hasText: 'catalog' })
        .locator('.badge.local')
        .waitFor({ timeout: 1_000 })
      expect(errors).toEqual([])
    })

    it('invalidates a tag with the fleet’s acknowledgement, and deletes a key', async () => {
      const { page, errors, fleet } = await open()
      await page.fill('#tag-input', 'user:7')
      await page.check('#ack-input')
      await page.click('#invalidate-form button')
      await page
        .locator('#feed li.invalidation', { hasText: 'user:7' })
        .locator('.ack', { hasText: 'applied by 1 of 1' })
        .waitFor()
      expect(await fleet.two.cache.get('user:7:cart')).toBeUndefined()

      await page.locator('#keys tr[data-key="product:1"] button.danger').click()
      await page.locator('#keys tr[data-key="product:1"]').waitFor({ state: 'detached' })
      expect(await fleet.one.cache.get('product:1')).toBeUndefined()
      await page.locator('#feed li.delete', { hasText: 'product:1' }).waitFor()
      if (SCREENSHOTS !== undefined) {
        await fleet.two.cache.invalidate('product:2')
        await page.locator('#feed li.invalidation .badge.bus').first().waitFor()
        await page.locator('#members tr').nth(1).waitFor()
        await fleet.one.cache.set('product:3', { id: 3 }, { tags: ['product:3'] })
        // Some reads (hits, a few misses) over twenty ticks, so the chart has lines to show.
        for (
          let tick = 0;
          Number(await page.locator('#chart').getAttribute('data-points')) < 20;
          tick++
        ) {
          for (let i = 0; i < 20 + (tick % 7) * 5; i++) await fleet.one.cache.get('product:3')
          for (let i = 0; i < 3 + (tick % 3); i++) await fleet.one.cache.get(`absent:${tick}:${i}`)
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
        mkdirSync(SCREENSHOTS, { recursive: true })
        await page.screenshot({ path: join(SCREENSHOTS, 'dashboard.png'), fullPage: true })
        await page
          .locator('#feed-card')
          .screenshot({ path: join(SCREENSHOTS, 'dashboard-feed.png') })
      }
      expect(errors).toEqual([])
    })

    it('answers 401 to the page and the event stream when authorize says no', async () => {
      const fleet = await smallFleet()
      const { server, url } = await app(fleet.one.cache, () => false)
      servers.push(server)
      const page = await browser.context.newPage()
      expect((await page.goto(`${url}/api/cache/ui`))?.status()).toBe(401)
      expect((await page.goto(`${url}/api/cache/events`))?.status()).toBe(401)
      expect((await page.goto(`${url}/api/cache/ui/dashboard.js`))?.status()).toBe(401)
    })
  },
)
