/**
 * The run's invalidation service process, which the `service-restart` fault stops (SIGKILL or
 * SIGTERM) and starts again on the same port — as a deployment restarts a service behind a fixed
 * address. The writers' clients keep the URL; whatever they send meanwhile must get through.
 */
import type { WorkerConfig } from './protocol.js'
import { within, WorkerProcess } from './workers.js'

export class ServiceProcess {
  readonly url: string
  readonly #config: WorkerConfig
  readonly #startupMs: number
  #current: WorkerProcess
  /** How many processes have served so far (1 + restarts). */
  generation = 1

  private constructor(config: WorkerConfig, startupMs: number, first: WorkerProcess, url: string) {
    this.#config = config
    this.#startupMs = startupMs
    this.#current = first
    this.url = url
  }

  static async start(config: WorkerConfig, startupMs: number): Promise<ServiceProcess> {
    const first = new WorkerProcess(config, () => {})
    const { url } = await within(first.ready, startupMs, 'starting the service')
    if (url === undefined) throw new Error('freshness: the service reported no URL')
    return new ServiceProcess(config, startupMs, first, url)
  }

  get name(): string {
    return 'service'
  }

  get pid(): number {
    return this.#current.pid
  }

  /** The process serving now: its result is the one collected at the end. */
  get current(): WorkerProcess {
    return this.#current
  }

  signal(signal: NodeJS.Signals): void {
    this.#current.signal(signal)
  }

  /** Stops the process serving now with `signal` and waits until it is gone. */
  async stop(signal: 'SIGKILL' | 'SIGTERM'): Promise<number> {
    const old = this.#current
    // It will never report: its result, and the failure that says so, are expected.
    old.result.catch(() => {})
    old.signal(signal)
    await old.exited
    return old.pid
  }

  /** Starts a new process on the same port and lets it serve (it was stopped by `stop`). */
  async restart(): Promise<number> {
    const port = Number(new URL(this.url).port)
    const next = new WorkerProcess({ ...this.#config, servicePort: port }, () => {})
    this.#current = next
    this.generation++
    await within(next.ready, this.#startupMs, 'restarting the service')
    next.send({ type: 'go' })
    return next.pid
  }

  kill(): void {
    this.#current.kill()
  }
}
