import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { type BrowserContext, chromium, type Page } from 'playwright-core'

/** Debian's Chromium (`apt-get install chromium`); the browser tests are skipped without it. */
export const CHROMIUM = '/usr/bin/chromium'
export const hasChromium = existsSync(CHROMIUM)

/**
 * Headless Chromium with a fresh profile, nothing fetched from the network on its own, and
 * HTTP Basic credentials answered for every origin.
 */
export async function launch(credentials?: { username: string; password: string }) {
  const profile = mkdtempSync(join(tmpdir(), 'cachegraph-chromium-'))
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 860 },
    ...(credentials === undefined ? {} : { httpCredentials: credentials }),
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
  return {
    context,
    async close() {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    },
  }
}

/** Console errors and uncaught exceptions of a page, collected as they happen. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = []
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`)
  })
  page.on('pageerror', (error) => errors.push(`page: ${error.message}`))
  page.on('requestfailed', (request) => {
    // The event stream is cut when the page goes away: not an error of the page.
    if (!request.url().endsWith('/events'))
      errors.push(`request: ${request.url()} ${request.failure()?.errorText}`)
  })
  return errors
}
