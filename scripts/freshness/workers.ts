/**
 * The worker processes of a run, seen from the coordinator: forked with `--import tsx` inherited
 * (they are TypeScript, like this script), talking over IPC with structured clone (so `Infinity`
 * survives), and never left behind — a worker that dies or reports a fatal error fails the run.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

import type { FromWorker, ToWorker, WorkerConfig, WorkerResult, WriteRecord } from './protocol.js'

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url))

export class WorkerProcess {
  readonly config: WorkerConfig
  /** Resolves once the worker is ready: its pid, and the service's URL (the `service` role). */
  readonly ready: Promise<{ pid: number; url?: string }>
  readonly result: Promise<WorkerResult>
  /** Resolves once the process has exited, however. */
  readonly exited: Promise<void>
  /** Resolves when the worker judged its first forbidden stale read (never, if it does not). */
  readonly forbidden: Promise<void>
  readonly #child: ChildProcess

  constructor(config: WorkerConfig, onWrites: (writes: WriteRecord[], mark: number) => void) {
    this.config = config
    this.#child = fork(WORKER, [JSON.stringify(config)], {
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    const name = `${config.role} ${config.index}`
    this.exited = new Promise((resolve) => this.#child.once('exit', () => resolve()))
    let failed: (error: Error) => void = () => {}
    const failure = new Promise<never>((_, reject) => (failed = reject))
    failure.catch(() => {}) // surfaces through `ready` / `result`
    this.#child.on('exit', (code, signal) =>
      failed(new Error(`freshness: ${name} exited (${signal ?? code}) before reporting`)),
    )
    this.#child.on('error', (error) => failed(error))
    const awaited = <T>(pick: (m: FromWorker) => T | undefined) =>
      Promise.race([
        failure,
        new Promise<T>((resolve) => {
          this.#child.on('message', (message: FromWorker) => {
            const value = pick(message)
            if (value !== undefined) resolve(value)
          })
        }),
      ])
    let forbidden = () => {}
    this.forbidden = new Promise((resolve) => (forbidden = resolve))
    this.#child.on('message', (message: FromWorker) => {
      if (message.type === 'forbidden') forbidden()
      if (message.type === 'fatal')
        failed(new Error(`freshness: ${name} failed: ${message.message}`))
      if (message.type === 'writes') onWrites(message.writes, message.mark)
    })
    this.ready = awaited((m) => (m.type === 'ready' ? { pid: m.pid, url: m.url } : undefined))
    this.result = awaited((m) => (m.type === 'result' ? m.result : undefined))
  }

  get pid(): number {
    return this.#child.pid ?? -1
  }

  get name(): string {
    return `${this.config.role} ${this.config.index}`
  }

  /** SIGSTOP / SIGCONT for the pause fault (only ever this run's own children). */
  signal(signal: NodeJS.Signals): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill(signal)
  }

  send(message: ToWorker): void {
    if (this.#child.connected) this.#child.send(message)
  }

  /** Stops a worker that is still running (only ever this run's own children). */
  kill(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null)
      this.#child.kill('SIGKILL')
  }
}

/** Rejects after `ms` unless `promise` settled first. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`freshness: ${what} took over ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
