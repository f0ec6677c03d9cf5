import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

import { Cluster, Redis } from 'ioredis'
import { afterAll, beforeAll } from 'vitest'

import { answers, freePort } from './redis-server.js'

const run = promisify(execFile)

/** A 3-master Redis Cluster on free ports, started from `redis-server` (no persistence). */
export interface OwnCluster {
  nodes: { host: string; port: number }[]
  connect(): Cluster
  stop(): Promise<void>
}

export async function startCluster(): Promise<OwnCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'cachegraph-cluster-'))
  const ports = [await freePort(), await freePort(), await freePort()]
  const children: ChildProcess[] = ports.map((port) =>
    spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      { cwd: dir, stdio: 'ignore' },
    ),
  )
  const stop = async () => {
    await Promise.all(
      children.map((child) =>
        child.exitCode !== null
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              child.once('exit', () => resolve())
              child.kill('SIGKILL')
            }),
      ),
    )
    rmSync(dir, { recursive: true, force: true })
  }
  process.once('exit', () => children.forEach((child) => child.kill('SIGKILL')))
  for (const port of ports) {
    for (let i = 0; !(await answers(`redis://127.0.0.1:${port}`)); i++) {
      if (i > 100) throw new Error(`cluster node on port ${port} did not start`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  await run('redis-cli', [
    '--cluster',
    'create',
    ...ports.map((p) => `127.0.0.1:${p}`),
    '--cluster-replicas',
    '0',
    '--cluster-yes',
  ])
  for (const port of ports) {
    const node = new Redis(port, '127.0.0.1')
    for (let i = 0; !(await node.cluster('INFO')).includes('cluster_state:ok'); i++) {
      if (i > 200) throw new Error('cluster did not become ready')
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    node.disconnect()
  }
  const nodes = ports.map((port) => ({ host: '127.0.0.1', port }))
  return {
    nodes,
    connect: () => new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: 1 } }),
    stop,
  }
}

/**
 * A cluster for the tests of the file (or `describe`) that calls this: started before them,
 * stopped after. `client` is its connection, set once the cluster is up.
 */
export function clusterForTests(): { readonly client: Cluster } {
  let cluster: OwnCluster | undefined
  const handle = { client: undefined as unknown as Cluster }
  beforeAll(async () => {
    cluster = await startCluster()
    handle.client = cluster.connect()
  }, 60_000)
  afterAll(async () => {
    ;(handle.client as Cluster | undefined)?.disconnect()
    await cluster?.stop()
  })
  return handle
}
