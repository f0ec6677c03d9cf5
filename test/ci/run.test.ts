import { spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, describe, expect, it } from 'vitest'

import { ROOT } from '../cli/spawn.js'

const dirs: string[] = []
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })))

/**
 * Runs `.ci/run` with stand-ins for the commands it calls (node, npm, apt-get, sudo, varnishd):
 * each records its arguments, so what the script would do on a fresh machine can be read back
 * without installing anything. Returns the calls, in order, and the script's output.
 */
function ciRun(machine: {
  varnishd: boolean
  xkey: boolean
  chromium?: boolean
  updateFails?: boolean
}) {
  const dir = mkdtempSync(join(tmpdir(), 'cachegraph-ci-'))
  dirs.push(dir)
  const calls = join(dir, 'calls')
  const vmods = join(dir, 'vmods')
  const stub = (name: string, body = '') => {
    const path = join(dir, 'bin', name)
    writeFileSync(path, `#!/bin/sh\necho "${name} $*" >> '${calls}'\n${body}\nexit 0\n`)
    chmodSync(path, 0o755)
  }
  spawnSync('mkdir', ['-p', join(dir, 'bin'), vmods])
  writeFileSync(calls, '')
  if (machine.xkey) writeFileSync(join(vmods, 'libvmod_xkey.so'), '')
  const chromium = join(dir, 'chromium')
  if (machine.chromium !== false) {
    writeFileSync(chromium, '')
    chmodSync(chromium, 0o755)
  }
  stub('node')
  stub('npm')
  stub('sudo', 'shift; exec "$@"')
  stub('id', 'echo 0')
  stub('apt-get', machine.updateFails === true ? '[ "$1" = update ] && exit 100' : '')
  if (machine.varnishd) stub('varnishd')
  const result = spawnSync('bash', [join(ROOT, '.ci/run')], {
    encoding: 'utf8',
    env: {
      PATH: `${join(dir, 'bin')}:/usr/bin:/bin`,
      CACHEGRAPH_CI_VMODS: vmods,
      CACHEGRAPH_CI_CHROMIUM: chromium,
      HOME: dir,
    },
  })
  const lines = readFileSync(calls, 'utf8').split('\n').filter(Boolean)
  return { status: result.status, stdout: result.stdout, calls: lines }
}

describe('.ci/run', () => {
  it('on a fresh machine, updates the package lists before installing Varnish', () => {
    const run = ciRun({ varnishd: false, xkey: false })
    const apt = run.calls.filter((call) => call.startsWith('apt-get'))
    expect(apt[0]).toMatch(/^apt-get update/)
    expect(apt[1]).toMatch(/^apt-get install .*varnish varnish-modules/)
    expect(run.calls.slice(-2)).toEqual(['npm ci --no-audit --no-fund', 'npm test'])
    expect(run.status).toBe(0)
  })

  it("installs when varnishd is there but the xkey vmod is not (the test's own condition)", () => {
    const run = ciRun({ varnishd: true, xkey: false })
    expect(run.calls.some((call) => call.startsWith('apt-get install'))).toBe(true)
    expect(run.stdout).toMatch(/will be skipped/)
  })

  it('installs nothing when both are there', () => {
    const run = ciRun({ varnishd: true, xkey: true })
    expect(run.calls.filter((call) => call.startsWith('apt-get'))).toEqual([])
    expect(run.status).toBe(0)
  })

  it('installs chromium for the browser tests when it is missing, in the same apt-get call', () => {
    const run = ciRun({ varnishd: false, xkey: false, chromium: false })
    const apt = run.calls.filter((call) => call.startsWith('apt-get'))
    expect(apt).toHaveLength(2)
    expect(apt[0]).toMatch(/^apt-get update/)
    expect(apt[1]).toMatch(/^apt-get install .*varnish varnish-modules chromium/)
    expect(run.stdout).toMatch(/browser tests will be skipped/) // the stand-in installs nothing
    const only = ciRun({ varnishd: true, xkey: true, chromium: false })
    expect(only.calls.filter((call) => call.startsWith('apt-get install'))).toEqual([
      'apt-get install -y -qq --no-install-recommends chromium',
    ])
  })

  it('says so when the update fails, and goes on', () => {
    const run = ciRun({ varnishd: false, xkey: false, updateFails: true })
    expect(run.stdout).toMatch(/apt-get update failed/)
    expect(run.calls.some((call) => call.startsWith('apt-get install'))).toBe(true)
    expect(run.calls.at(-1)).toBe('npm test')
    expect(run.status).toBe(0)
  })
})
