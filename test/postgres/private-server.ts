import { execFile } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

import { freePort } from '../helpers/redis-server.js'

const run = promisify(execFile)

/** A PostgreSQL this process started (as the Redis helper starts its own redis-server). */
export interface PrivatePostgres {
  url: string
  stop(): Promise<void>
}

const MISSING = `the replication tests start their own PostgreSQL with wal_level=logical: they need
its server binaries (initdb, pg_ctl). Debian/Ubuntu: apt-get install postgresql; or set PG_BIN.`

/** The directory of initdb and pg_ctl: PG_BIN, else the newest /usr/lib/postgresql/<v>/bin. */
function binDir(): string {
  if (process.env.PG_BIN !== undefined) return process.env.PG_BIN
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : []
  if (versions[0] === undefined) throw new Error(MISSING)
  return join(root, versions[0], 'bin')
}

/**
 * Starts a throwaway server on a free port, in a temporary directory, with `wal_level=logical`.
 * initdb refuses to run as root: then the binaries run as the `postgres` user (`runuser`).
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = binDir()
  const dir = mkdtempSync(join(tmpdir(), 'cgpg-'))
  const data = join(dir, 'data')
  const asRoot = process.getuid?.() === 0
  const exec = async (tool: string, args: string[]) => {
    const [file, argv] = asRoot
      ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]]
      : [join(bin, tool), args]
    return run(file, argv, { timeout: 60_000 })
  }
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres'])
    const { stdout: gid } = await run('id', ['-g', 'postgres'])
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()))
  }
  const port = await freePort()
  await exec('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8'])
  const settings = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    `-c unix_socket_directories=${dir}`,
    '-c wal_level=logical',
    '-c max_replication_slots=10',
    '-c max_wal_senders=10',
    '-c fsync=off',
  ].join(' ')
  await exec('pg_ctl', [
    '-D',
    data,
    '-o',
    settings,
    '-l',
    join(dir, 'log'),
    '-w',
    '-t',
    '60',
    'start',
  ])
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await exec('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {})
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
