import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

/** The files of the page: shipped in the package's `ui/` folder, and uPlot's own dist files. */
const ASSETS: Record<string, { file: () => string; type: string }> = {
  'dashboard.js': { file: () => ui('dashboard.js'), type: 'text/javascript; charset=utf-8' },
  'dashboard.css': { file: () => ui('dashboard.css'), type: 'text/css; charset=utf-8' },
  // uPlot is a dependency, served from where npm put it: no copy to keep in step, no bundler.
  'uplot.js': { file: () => uplot('uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  'uplot.css': { file: () => uplot('uPlot.min.css'), type: 'text/css; charset=utf-8' },
}

/** `src/http/dashboard` and `dist/http/dashboard` both sit three levels below the package root. */
const ui = (name: string) => fileURLToPath(new URL(`../../../ui/${name}`, import.meta.url))
const uplot = (name: string) => createRequire(import.meta.url).resolve(`uplot/dist/${name}`)

/**
 * What the page may load and do: only this origin's scripts, styles and connections; no frames
 * around it (clickjacking the invalidate button), no inline script to inject into.
 */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const

const loaded = new Map<string, Promise<Buffer>>()
/** Read once per process; the files do not change while it runs. */
function load(file: string): Promise<Buffer> {
  let bytes = loaded.get(file)
  if (bytes === undefined) {
    bytes = readFile(file)
    bytes.catch(() => loaded.delete(file))
    loaded.set(file, bytes)
  }
  return bytes
}

/** The asset called `name`, or undefined when there is none. */
export async function assetResponse(name: string): Promise<Response | undefined> {
  const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined
  if (asset === undefined) return undefined
  const bytes = await load(asset.file())
  return new Response(new Uint8Array(bytes), {
    headers: { ...PAGE_HEADERS, 'content-type': asset.type },
  })
}

/** The page, its asset and API paths under `prefix`. */
export async function pageResponse(prefix: string): Promise<Response> {
  const template = (await load(ui('index.html'))).toString('utf8')
  return new Response(template.replaceAll('{{prefix}}', escapeHtml(prefix)), {
    headers: { ...PAGE_HEADERS, 'content-type': 'text/html; charset=utf-8' },
  })
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
