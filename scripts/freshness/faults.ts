/**
 * Faults on a schedule: now and then, one worker's bus subscription is cut (`CLIENT KILL ID` of
 * the connection its cache named `cachegraph-bus-<pid>-...`). The cache must notice, distrust its
 * L1, and after reconnecting make up what it missed — exactly what `--break gap-detection`
 * removes. Only connections of this run's workers are ever killed, one at a time.
 */
import type { Redis } from 'ioredis'

export interface FaultInjector {
  readonly kills: number
  /** Attempts that failed (Redis did not answer `CLIENT LIST` / `CLIENT KILL`). */
  readonly failures: number
  stop(): void
}

export function killBusConnections(
  admin: Redis,
  pids: readonly number[],
  everyMs: number,
): FaultInjector {
  let kills = 0
  let failures = 0
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  const schedule = () => {
    if (stopped) return
    timer = setTimeout(
      () =>
        void killOne()
          .catch(() => void failures++)
          .finally(schedule),
      everyMs * (0.5 + Math.random()),
    )
  }
  const killOne = async () => {
    const pid = pids[Math.floor(Math.random() * pids.length)]
    const list = (await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string
    const id = list
      .split('\n')
      .map((line) => /\bid=(\d+)\b.*\bname=(\S+)/.exec(line))
      .find((m) => m?.[2]?.startsWith(`cachegraph-bus-${pid}-`))?.[1]
    if (id === undefined || stopped) return
    await admin.call('CLIENT', 'KILL', 'ID', id)
    kills++
  }
  schedule()
  return {
    get kills() {
      return kills
    },
    get failures() {
      return failures
    },
    stop() {
      stopped = true
      clearTimeout(timer)
    },
  }
}
