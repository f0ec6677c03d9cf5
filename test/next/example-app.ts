import { type ChildProcess, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The Next.js example (examples/next) built once and run as real `next start` processes, for the
 * end-to-end tests and the freshness checker's Next path.
 */

const root = fileURLToPath(new URL('../../', import.meta.url))
export const exampleDir = join(root, 'examples/next')
const nextBin = join(root, 'node_modules/next/dist/bin/next')
const cacheRoot = join(root, 'node_modules/.cache/cachegraph-next')

/** What a build of the example is made of. */
async function sourceHash(): Promise<string> {
  const hash = createHash('sha256')
  const nextVersion = (
    JSON.parse(await readFile(join(root, 'node_modules/next/package.json'), 'utf8')) as {
      version: string
    }
  ).version
  hash.update(`next ${nextVersion} node ${process.version}\n`)
  // The handlers (and with them the built library) are loaded by `next start` at run time, not
  // bundled by `next build` (its output names them by path): the build depends on the app alone.
  const files = (await readdir(exampleDir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => relative(exampleDir, join(entry.parentPath, entry.name)))
    .filter((file) => !file.startsWith('.next') && !file.endsWith('.md'))
    .sort()
  for (const file of files) {
    hash.update(`${file}\n`)
    hash.update(await readFile(join(exampleDir, file)))
  }
  return hash.digest('hex').slice(0, 16)
}

export interface ExampleBuild {
  /** `distDir` of the build, relative to the example (what `NEXT_DIST_DIR` says). */
  distDir: string
  /** Whether this call built it (false: an earlier build of the same sources was reused). */
  built: boolean
  /** How long the build (or the check that it was there) took, in ms. */
  ms: number
}

/**
 * Builds the example with `next build` into node_modules/.cache/cachegraph-next/<hash>, unless a
 * complete build of the same sources is already there; older builds are removed.
 */
export async function buildExample(): Promise<ExampleBuild> {
  const started = performance.now()
  const hash = await sourceHash()
  const dir = join(cacheRoot, hash)
  const distDir = relative(exampleDir, dir)
  const complete = join(dir, 'cachegraph-build-complete')
  const lock = `${dir}.lock`
  await mkdir(cacheRoot, { recursive: true })
  // Test files (and the freshness checker) may ask at once: one builds, the others wait for it.
  for (;;) {
    if (existsSync(complete)) return { distDir, built: false, ms: performance.now() - started }
    try {
      await mkdir(lock)
      break
    } catch {
      // Someone else is building (a lock older than the longest build is left from a crash).
      const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs
      if (age > BUILD_TIMEOUT_MS) await rm(lock, { recursive: true, force: true })
      else await new Promise((resolve) => setTimeout(resolve, 500))
    }
  }
  try {
    for (const old of await readdir(cacheRoot)) {
      if (old !== `${hash}.lock`) await rm(join(cacheRoot, old), { recursive: true, force: true })
    }
    const { code, output } = await runToEnd(process.execPath, [nextBin, 'build', exampleDir], {
      ...process.env,
      NEXT_TELEMETRY_DISABLED: '1',
      NEXT_DIST_DIR: distDir,
    })
    if (code !== 0) throw new Error(`next build failed (${code}):\n${output}`)
    await writeFile(complete, new Date().toISOString())
  } finally {
    await rm(lock, { recursive: true, force: true })
  }
  return { distDir, built: true, ms: performance.now() - started }
}

/** Longer than any build takes, even on a busy machine. */
const BUILD_TIMEOUT_MS = 10 * 60_000

function runToEnd(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.once('error', reject)
    child.once('exit', (code) => resolve({ code, output }))
  })
}

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

export interface InstanceOptions {
  build: ExampleBuild
  redisUrl: string
  /** The Redis key prefix of the cache and of the example's database. */
  prefix: string
  /** `ack` of both handlers. */
  ack: boolean
  port?: number
}

/** One `next start` of the example. */
export class NextInstance {
  readonly url: string
  readonly port: number
  readonly #child: ChildProcess
  readonly #exited: Promise<number | null>
  #output = ''

  private constructor(port: number, options: InstanceOptions) {
    this.port = port
    this.url = `http://127.0.0.1:${port}`
    this.#child = spawn(
      process.execPath,
      [nextBin, 'start', exampleDir, '-p', String(port), '-H', '127.0.0.1'],
      {
        env: {
          ...process.env,
          NODE_ENV: 'production',
          NEXT_TELEMETRY_DISABLED: '1',
          NEXT_DIST_DIR: options.build.distDir,
          REDIS_URL: options.redisUrl,
          CACHEGRAPH_PREFIX: options.prefix,
          CACHEGRAPH_ACK: options.ack ? '1' : '0',
          PORT: String(port),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    const keep = (chunk: Buffer) => (this.#output += chunk.toString())
    this.#child.stdout?.on('data', keep)
    this.#child.stderr?.on('data', keep)
    this.#exited = new Promise((resolve) => this.#child.once('exit', resolve))
  }

  /** Starts an instance and resolves once it answers (within `timeoutMs`). */
  static async start(options: InstanceOptions, timeoutMs = 60_000): Promise<NextInstance> {
    const instance = new NextInstance(options.port ?? (await freePort()), options)
    await instance.#ready(timeoutMs)
    return instance
  }

  async #ready(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs
    let exited = false
    void this.#exited.then(() => (exited = true))
    while (performance.now() < deadline && !exited) {
      try {
        // The home page: static, it reads no database.
        const response = await fetch(`${this.url}/`)
        await response.arrayBuffer()
        if (response.ok) return
      } catch {
        // Not listening yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    await this.stop()
    throw new Error(`next start did not answer on ${this.url}:\n${this.#output}`)
  }

  /** Everything the instance printed. */
  output(): string {
    return this.#output
  }

  /** The value a page shows (its `data-value`). */
  async value(path: string): Promise<string> {
    const response = await fetch(`${this.url}${path}`)
    const html = await response.text()
    const match = /data-value="([^"]*)"/.exec(html)
    if (!response.ok || match?.[1] === undefined) {
      throw new Error(`GET ${this.url}${path} -> ${response.status}\n${html.slice(0, 2000)}`)
    }
    return match[1]
  }

  /**
   * Calls the example's server action `save(name, value, { tags, paths })` (app/actions.js):
   * writes the value, then `updateTag`s the tags and `revalidatePath`s the paths. Next applies
   * an action's revalidations before it answers.
   */
  async save(
    build: ExampleBuild,
    name: string,
    value: string,
    revalidate: { tags?: string[]; paths?: string[] },
  ): Promise<void> {
    const response = await fetch(`${this.url}/`, {
      method: 'POST',
      headers: {
        'next-action': await actionId(build, 'save'),
        'content-type': 'text/plain;charset=UTF-8',
        accept: 'text/x-component',
      },
      body: JSON.stringify([name, value, revalidate]),
    })
    const body = await response.text()
    if (!response.ok) throw new Error(`server action -> ${response.status}\n${body.slice(0, 2000)}`)
  }

  /** `POST /api/revalidate`: the route handler calling `revalidateTag`/`revalidatePath`. */
  async revalidate(body: {
    name?: string
    value?: string
    tags?: string[]
    paths?: string[]
  }): Promise<void> {
    const response = await fetch(`${this.url}/api/revalidate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    const text = await response.text()
    if (!response.ok) throw new Error(`POST /api/revalidate -> ${response.status}\n${text}`)
  }

  /** Stops the instance (SIGTERM, then SIGKILL after 10 s) and resolves once it exited. */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return
    this.#child.kill('SIGTERM')
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 10_000)
    await this.#exited
    clearTimeout(timer)
  }
}

/** The id Next gave an exported server action of app/actions.js in this build. */
async function actionId(build: ExampleBuild, exportedName: string): Promise<string> {
  const file = join(exampleDir, build.distDir, 'server/server-reference-manifest.json')
  const manifest = JSON.parse(await readFile(file, 'utf8')) as {
    node: Record<string, { filename: string; exportedName: string }>
  }
  for (const [id, action] of Object.entries(manifest.node)) {
    if (action.exportedName === exportedName && action.filename.endsWith('app/actions.js'))
      return id
  }
  throw new Error(`no server action ${exportedName} in ${file}`)
}

/**
 * Resolves with how long it took (ms) once `check` returns true, polling as fast as the
 * requests go; throws after `timeoutMs`.
 */
export async function waitFor(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<number> {
  const started = performance.now()
  for (;;) {
    if (await check()) return performance.now() - started
    if (performance.now() - started > timeoutMs)
      throw new Error(`not within ${timeoutMs} ms: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
