/**
 * Faults on a schedule: one at a time, rotating through the kinds chosen with `--faults`, about
 * every `--fault-every`. Each is recorded with its start and end on the run's shared clock, so
 * the report can line it up with writes and reads.
 *
 * Only this run's own things are ever touched: its workers' bus connections (found by the client
 * name their caches give them, `cachegraph-bus-<pid>-...`), its workers' processes, the TCP proxy
 * it put in front of Redis, the `redis-server` it started itself, and its invalidation service
 * process — the machine's Redis is never restarted, flushed nor squeezed (topology.ts decides
 * what exists; FLUSHDB, restarts and evictions need the run's own server and refuse to run
 * without it).
 */
import { setTimeout as sleep } from 'node:timers/promises'

import type { Redis } from 'ioredis'

import type { OwnRedis } from '../../test/helpers/redis-server.js'
import type { TcpProxy } from '../../test/helpers/tcp-proxy.js'
import type { SharedClock } from './clock.js'
import { evictRecords } from './fault-records.js'

export const FAULTS = [
  { kind: 'bus-kill', what: "CLIENT KILL ID of a worker's bus subscriber" },
  { kind: 'redis-stall', what: 'Redis answers nothing for 300 ms (proxy)' },
  { kind: 'redis-cut', what: 'every connection to Redis dropped (proxy)' },
  { kind: 'redis-restart', what: 'own redis-server SIGKILLed, back empty 500 ms later' },
  { kind: 'flushdb', what: "FLUSHDB on the run's own redis-server" },
  { kind: 'pause', what: 'SIGSTOP a reader for 1.5 x maxSilence, then SIGCONT' },
  { kind: 'slow-loaders', what: 'every loader takes 50 ms longer, for 1 s' },
  {
    kind: 'service-restart',
    what: 'invalidation service SIGKILLed / SIGTERMed (alternately), back 1 s later',
  },
  {
    kind: 'evict-records',
    what: 'tag records lost: DEL of {P}:h {P}:s / a maxmemory squeeze (allkeys-lru)',
  },
] as const

export type FaultKind = (typeof FAULTS)[number]['kind']
export const FAULT_KINDS: readonly FaultKind[] = FAULTS.map((f) => f.kind)

/** Faults that need the workers to reach Redis through the run's TCP proxy. */
export const PROXY_FAULTS: readonly FaultKind[] = ['redis-stall', 'redis-cut', 'redis-restart']
/** Faults that need a `redis-server` of the run's own (never the machine's Redis). */
export const OWN_REDIS_FAULTS: readonly FaultKind[] = ['redis-restart', 'flushdb', 'evict-records']
/** Faults that need writes through the invalidation service (`--write-paths` with `service`). */
export const SERVICE_FAULTS: readonly FaultKind[] = ['service-restart']

export const STALL_MS = 300
/** How long the caches' Redis is down in a restart (a real one takes a while). */
export const RESTART_DOWN_MS = 500
export const SLOW_LOADER_EXTRA_MS = 50
export const SLOW_LOADERS_MS = 1_000
/** A paused reader stays stopped this many times `maxSilence`. */
export const PAUSE_FACTOR = 1.5
/** How long the invalidation service is gone in a restart, before its new process starts. */
export const SERVICE_DOWN_MS = 1_000

/** One fault as it happened; times in ms on the run's shared clock (see clock.ts). */
export interface FaultRecord {
  kind: FaultKind
  startMs: number
  endMs: number
  /** Whom it hit: a worker (`reader 1 (pid 123)`), or the Redis of the caches. */
  target: string
  /** Set when the fault could not be injected (then it does not count as injected). */
  failed?: string
}

/** What the faults act on. */
export interface FaultTargets {
  clock: SharedClock
  maxSilenceMs: number
  /** A direct connection (no proxy) to the Redis the caches use: CLIENT LIST / CLIENT KILL. */
  cacheAdmin: Redis
  /** Present when the workers reach Redis through the run's proxy. */
  proxy: TcpProxy | undefined
  /** The run's own redis-server and a direct connection to it; absent: no FLUSHDB, no restart. */
  own: { server: OwnRedis; admin: Redis } | undefined
  /** The run's invalidation service process (absent without the `service` write path). */
  service: RestartableService | undefined
  /** The store's tag-records hashes (`{P}:h`, `{P}:s`). */
  recordsKeys: readonly string[]
  /** Workers with a bus, whose subscriber a bus-kill may cut. */
  busWorkers: readonly Worker[]
  /** Readers a pause may stop (those with a bus: a busless reader has no silence to notice). */
  pausable: readonly Worker[]
  /** Adds `extraMs` to every loader of every worker (0: back to normal). */
  slowLoaders(extraMs: number): void
}

export interface Worker {
  readonly name: string
  readonly pid: number
  signal(signal: NodeJS.Signals): void
}

export interface RestartableService {
  /** Stops the serving process with `signal`, once it is gone; its pid. */
  stop(signal: 'SIGKILL' | 'SIGTERM'): Promise<number>
  /** Starts a new one on the same address; its pid once it serves. */
  restart(): Promise<number>
}

export interface FaultSchedule {
  readonly records: readonly FaultRecord[]
  /** Resolves once every kind of the rotation was injected (not failed) `rounds` times. */
  covered(rounds: number): Promise<void>
  /** Ends the fault in progress at once (resume, SIGCONT, loaders back) and stops the schedule. */
  stop(): Promise<void>
}

/**
 * Starts the rotation: the first fault after about `everyMs`, the next about `everyMs` after
 * the previous one started (0.75-1.25 x, and never sooner than `everyMs / 4` after it ended).
 */
export function scheduleFaults(
  kinds: readonly FaultKind[],
  everyMs: number,
  targets: FaultTargets,
): FaultSchedule {
  const records: FaultRecord[] = []
  const waiters: { rounds: number; resolve: () => void }[] = []
  const coveredBy = (rounds: number) =>
    kinds.every(
      (kind) =>
        records.filter((r) => r.kind === kind && r.failed === undefined && r.endMs >= 0).length >=
        rounds,
    )
  const checkCoverage = () => {
    for (const waiter of [...waiters]) {
      if (!coveredBy(waiter.rounds)) continue
      waiters.splice(waiters.indexOf(waiter), 1)
      waiter.resolve()
    }
  }
  const abort = new AbortController()
  const { signal } = abort
  const run = async () => {
    let next = 0
    let lastStart = Date.now()
    while (!signal.aborted) {
      const jittered = everyMs * (0.75 + Math.random() * 0.5)
      await sleep(Math.max(0, lastStart + jittered - Date.now()), undefined, { signal })
      lastStart = Date.now()
      const kind = kinds[next++ % kinds.length] as FaultKind
      const record: FaultRecord = {
        kind,
        startMs: targets.clock.now(),
        endMs: NaN,
        target: 'redis',
      }
      // Faults with variants alternate them by how often the kind came before.
      const seen = records.filter((r) => r.kind === kind).length
      records.push(record)
      try {
        record.target = await inject(kind, targets, signal, next, seen)
      } catch (error) {
        record.failed = error instanceof Error ? error.message : String(error)
      }
      record.endMs = targets.clock.now()
      checkCoverage()
      await sleep(everyMs / 4, undefined, { signal })
    }
  }
  const done = run().catch(() => {}) // an abort ends the sleeps; every fault undoes itself
  return {
    records,
    covered: (rounds) =>
      new Promise<void>((resolve) => {
        waiters.push({ rounds, resolve })
        checkCoverage()
      }),
    stop: async () => {
      abort.abort()
      await done
    },
  }
}

/** Sleeps `ms`, cut short by `signal` (the fault then ends early, as it must). */
const hold = (ms: number, signal: AbortSignal) => sleep(ms, undefined, { signal }).catch(() => {})

/**
 * Injects one fault and waits for its end; returns its target. `n` picks among workers, `seen`
 * (earlier faults of the kind) among variants.
 */
async function inject(
  kind: FaultKind,
  t: FaultTargets,
  signal: AbortSignal,
  n: number,
  seen: number,
): Promise<string> {
  const pick = (list: readonly Worker[]) => {
    if (list.length === 0) throw new Error(`no worker to ${kind}`)
    return list[n % list.length] as Worker
  }
  switch (kind) {
    case 'bus-kill': {
      const worker = pick(t.busWorkers)
      await killBusConnection(t.cacheAdmin, worker.pid)
      return nameOf(worker)
    }
    case 'redis-stall': {
      const proxy = need(t.proxy, kind)
      proxy.stall()
      try {
        await hold(STALL_MS, signal)
      } finally {
        proxy.resume()
      }
      return 'redis (proxy)'
    }
    case 'redis-cut':
      need(t.proxy, kind).cut()
      return 'redis (proxy)'
    case 'redis-restart': {
      // Started on the same port, empty: the proxy's next connections reach the new one.
      const { server } = need(t.own, kind)
      await server.kill()
      try {
        await hold(RESTART_DOWN_MS, signal)
      } finally {
        await server.restart()
      }
      return `own redis-server :${server.port}`
    }
    case 'flushdb':
      await need(t.own, kind).admin.flushdb()
      return `own redis-server :${t.own!.server.port}`
    case 'pause': {
      const worker = pick(t.pausable)
      worker.signal('SIGSTOP')
      try {
        await hold(t.maxSilenceMs * PAUSE_FACTOR, signal)
      } finally {
        worker.signal('SIGCONT')
      }
      return nameOf(worker)
    }
    case 'slow-loaders':
      t.slowLoaders(SLOW_LOADER_EXTRA_MS)
      try {
        await hold(SLOW_LOADERS_MS, signal)
      } finally {
        t.slowLoaders(0)
      }
      return 'every worker'
    case 'service-restart': {
      // Writes through the service keep going: its clients must get every one through.
      const service = need(t.service, kind)
      const how = seen % 2 === 0 ? 'SIGKILL' : 'SIGTERM'
      const old = await service.stop(how)
      let fresh: number
      try {
        await hold(SERVICE_DOWN_MS, signal)
      } finally {
        // Also when the run ends meanwhile: the writers' last invalidations need it.
        fresh = await service.restart()
      }
      return `service pid ${old} (${how}) -> pid ${fresh}`
    }
    case 'evict-records': {
      const { admin, server } = need(t.own, kind)
      const what = await evictRecords(
        admin,
        t.recordsKeys,
        seen % 2 === 0 ? 'del' : 'squeeze',
        signal,
      )
      return `own redis-server :${server.port}: ${what}`
    }
  }
}

const nameOf = (worker: Worker) => `${worker.name} (pid ${worker.pid})`

function need<T>(value: T | undefined, kind: FaultKind): T {
  if (value === undefined) throw new Error(`freshness: ${kind} needs the run's own setup`)
  return value
}

/** `CLIENT KILL ID` of the bus subscriber of the worker `pid` (named by its cache). */
async function killBusConnection(admin: Redis, pid: number): Promise<void> {
  const list = (await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string
  const id = list
    .split('\n')
    .map((line) => /\bid=(\d+)\b.*\bname=(\S+)/.exec(line))
    .find((m) => m?.[2]?.startsWith(`cachegraph-bus-${pid}-`))?.[1]
  if (id === undefined) throw new Error(`no bus subscriber of pid ${pid} (reconnecting?)`)
  await admin.call('CLIENT', 'KILL', 'ID', id)
}

/** Per kind: how many were injected, and how many attempts failed. */
export function tallyFaults(records: readonly FaultRecord[]): {
  injected: Record<string, number>
  failed: Record<string, number>
} {
  const injected: Record<string, number> = {}
  const failed: Record<string, number> = {}
  for (const r of records) {
    const into = r.failed === undefined ? injected : failed
    into[r.kind] = (into[r.kind] ?? 0) + 1
  }
  return { injected, failed }
}
