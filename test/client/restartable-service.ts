import { closedPort, type Served, serve } from '../cli/spawn.js'

/**
 * A real `cachegraph serve` (embedded memory store) on a port that stays the same across
 * restarts, as a deployment's would: stop it with a signal, start it again on that port.
 */
export async function restartableService() {
  const port = await closedPort()
  const start = () => serve(['--port', String(port), '--insecure'])
  let current: Served | undefined = await start()
  return {
    url: `http://127.0.0.1:${port}/cache/invalidate`,
    /** SIGKILL: gone at once. SIGTERM: finishes the requests in flight, then stops. */
    async stop(signal: 'SIGKILL' | 'SIGTERM') {
      const served = current
      current = undefined
      if (served === undefined) return
      served.child.kill(signal)
      await served.exited
    },
    async start() {
      current ??= await start()
    },
    async close() {
      const served = current
      current = undefined
      if (served !== undefined && served.child.exitCode === null) {
        served.child.kill('SIGKILL')
        await served.exited
      }
    },
  }
}
