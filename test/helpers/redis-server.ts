import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'

import { Redis } from 'ioredis'

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** True when a Redis answers PING at `url` within a second. */
export async function answers(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 1_000,
    retryStrategy: () => null,
  })
  client.on('error', () => {}) // a refused connection is the answer, not an error
  try {
    await client.connect()
    return (await client.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    client.disconnect()
  }
}

/** A `redis-server` this process started: for tests that restart or flush their own server. */
export interface OwnRedis {
  url: string
  port: number
  /** Stops the server (SIGKILL: no chance to save anything). */
  kill(): Promise<void>
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>
}

const MISSING = `cachegraph's tests need Redis: set REDIS_URL to a server, or install redis-server
(Debian/Ubuntu: apt-get install redis-server) so the tests can start their own.`

/**
 * Starts a throwaway `redis-server` from PATH on a free port (no persistence), with `args` added
 * to its command line (e.g. `['--maxmemory-policy', 'allkeys-lru']`).
 */
export async function startRedis(args: readonly string[] = []): Promise<OwnRedis> {
  const port = await freePort()
  let child: ChildProcess | undefined
  const launch = async () => {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args],
      {
        stdio: 'ignore',
      },
    )
    const failed = new Promise<never>((_, reject) =>
      child!.once('error', (error) => reject(new Error(`${MISSING}\n(${error.message})`))),
    )
    const url = `redis://127.0.0.1:${port}`
    for (let i = 0; i < 100; i++) {
      if (await Promise.race([answers(url), failed])) return
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    throw new Error(`redis-server did not start on port ${port}`)
  }
  await launch()
  const kill = async () => {
    const proc = child
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return
    await new Promise((resolve) => {
      proc.once('exit', resolve)
      proc.kill('SIGKILL')
    })
  }
  process.once('exit', () => child?.kill('SIGKILL'))
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    restart: async () => (await kill(), await launch()),
  }
}
