import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

import type { CacheEvents } from '../../src/cache/events.js'

type BusEvent = 'bus:trusted' | 'bus:distrusted' | 'bus:sync' | 'store:reset'

/** A test fleet member: a real Node process (test/fleet/worker.ts) with a cache and a bus. */
export interface Member {
  readonly pid: number
  readonly process: ChildProcess
  call<T = unknown>(op: string, ...args: unknown[]): Promise<T>
  /** Resolves with the next `event` from this process. */
  next<E extends BusEvent>(event: E): Promise<CacheEvents[E]>
  stop(): Promise<void>
}

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url))

/** Starts a member on `prefix`; resolves once its bus vouches for it. */
export function startMember(url: string, prefix: string, maxSilenceMs: number): Promise<Member> {
  const child = fork(WORKER, [url, prefix, String(maxSilenceMs)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  let nextId = 0
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  const listeners: { event: string; resolve: (payload: never) => void }[] = []
  return new Promise((resolveStart, rejectStart) => {
    child.once('exit', (code) => rejectStart(new Error(`worker exited with ${code}`)))
    child.on('message', (message: Record<string, unknown>) => {
      if (message.ready === true) return resolveStart(member)
      if (typeof message.event === 'string') {
        const index = listeners.findIndex((l) => l.event === message.event)
        if (index >= 0) listeners.splice(index, 1)[0]?.resolve(message.payload as never)
        return
      }
      const waiter = pending.get(message.id as number)
      pending.delete(message.id as number)
      if (message.error !== undefined) waiter?.reject(new Error(message.error as string))
      else waiter?.resolve(message.result)
    })
    const member: Member = {
      pid: child.pid as number,
      process: child,
      call: <T>(op: string, ...args: unknown[]) =>
        new Promise<T>((resolve, reject) => {
          const id = nextId++
          pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
          child.send({ id, op, args })
        }),
      next: <E extends BusEvent>(event: E) =>
        new Promise<CacheEvents[E]>((resolve) => listeners.push({ event, resolve })),
      stop: () =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve()
          child.once('exit', () => resolve())
          child.kill('SIGCONT')
          child.disconnect()
          setTimeout(() => child.kill('SIGKILL'), 3_000).unref()
        }),
    }
  })
}
