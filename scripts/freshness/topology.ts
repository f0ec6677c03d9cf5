/**
 * Where the workers' caches find Redis, decided by the faults of the run:
 *
 * - no Redis fault: the machine's Redis (`REDIS_URL`), directly, as before;
 * - `redis-stall` / `redis-cut`: through a TCP proxy of the run in front of it;
 * - `redis-restart` / `flushdb` / `evict-records`: a `redis-server` of the run's own (from PATH,
 *   on a free port, no persistence), through the proxy. The machine's Redis is never restarted,
 *   flushed nor squeezed.
 *
 * The database (`--db redis`) always stays on the machine's Redis, on connections that bypass
 * the proxy: a restart of the caches' Redis must not lose the source of truth.
 */
import { Redis } from 'ioredis'

import { type OwnRedis, startRedis } from '../../test/helpers/redis-server.js'
import { startProxy, type TcpProxy } from '../../test/helpers/tcp-proxy.js'
import { type FaultKind, OWN_REDIS_FAULTS, PROXY_FAULTS } from './faults.js'

export interface Topology {
  /** What the workers' caches (store and bus) connect to. */
  cacheUrl: string
  /** A direct connection to the caches' Redis (CLIENT LIST / KILL, key cleanup). */
  cacheAdmin: Redis
  /** The caches' Redis is the machine's (`REDIS_URL`), not one of the run's own. */
  shared: boolean
  proxy: TcpProxy | undefined
  own: { server: OwnRedis; admin: Redis } | undefined
  close(): Promise<void>
}

export async function setUpTopology(
  faults: readonly FaultKind[],
  redisUrl: string,
): Promise<Topology> {
  const needsOwn = faults.some((f) => OWN_REDIS_FAULTS.includes(f))
  const needsProxy = needsOwn || faults.some((f) => PROXY_FAULTS.includes(f))
  let server: OwnRedis | undefined
  let proxy: TcpProxy | undefined
  const clients: Redis[] = []
  const client = (url: string) => {
    const redis = new Redis(url, { maxRetriesPerRequest: 1 })
    redis.on('error', () => {}) // commands fail with the error; the event is noise (restarts)
    clients.push(redis)
    return redis
  }
  const close = async () => {
    clients.forEach((c) => c.disconnect())
    await proxy?.close()
    await server?.kill()
  }
  try {
    if (needsOwn) {
      server = await startRedis().catch((error: unknown) => {
        throw new Error(
          `freshness: --faults ${OWN_REDIS_FAULTS.join(' / ')} need redis-server on PATH ` +
            `(the checker never restarts nor flushes REDIS_URL): ${String(error)}`,
        )
      })
    }
    const direct = server?.url ?? redisUrl
    let cacheUrl = direct
    if (needsProxy) {
      const target = new URL(direct)
      proxy = await startProxy({
        target: { host: target.hostname, port: Number(target.port || 6379) },
      })
      // Same credentials and database number, another address.
      const via = new URL(direct)
      via.hostname = '127.0.0.1'
      via.port = String(proxy.port)
      cacheUrl = via.href
    }
    return {
      cacheUrl,
      cacheAdmin: client(direct),
      shared: server === undefined,
      proxy,
      own: server === undefined ? undefined : { server, admin: client(server.url) },
      close,
    }
  } catch (error) {
    await close()
    throw error
  }
}
