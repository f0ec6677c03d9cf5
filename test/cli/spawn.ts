import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const MAIN = 'src/cli/main.ts'

/** Runs `cachegraph ...args` to its end: exit code and output. */
export function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      cwd: ROOT,
      env: { ...cleanEnv(), ...env },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** The environment without the variables the CLI reads, so the runner's own cannot leak in. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  for (const name of ['PORT', 'REDIS_URL', 'CACHE_API_KEY', 'CACHE_API_KEYS', 'CACHEGRAPH_URL']) {
    delete env[name]
  }
  return env
}

export interface Served {
  child: ChildProcess
  url: string
  /** Everything written on stderr so far. */
  log(): string
  /** Resolves when stderr matches. */
  waitFor(pattern: RegExp): Promise<void>
  exited: Promise<number | null>
}

/** Starts `cachegraph serve --port 0 ...args` and resolves once it listens. */
export async function serve(args: string[], env: Record<string, string> = {}): Promise<Served> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, 'serve', '--port', '0', ...args],
    {
      cwd: ROOT,
      env: { ...cleanEnv(), ...env },
    },
  )
  let stderr = ''
  const waiters: [RegExp, () => void][] = []
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
    for (const [pattern, resolve] of waiters) if (pattern.test(stderr)) resolve()
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const waitFor = (pattern: RegExp) =>
    new Promise<void>((resolve, reject) => {
      if (pattern.test(stderr)) return resolve()
      waiters.push([pattern, resolve])
      void exited.then(() => reject(new Error(`exited before ${String(pattern)}:\n${stderr}`)))
    })
  await waitFor(/service on (http:\/\/\S+)/)
  const url = /service on (http:\/\/\S+)/.exec(stderr)?.[1] as string
  return { child, url, log: () => stderr, waitFor, exited }
}

/** A port nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}
