import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { freePort } from '../../helpers/redis-server.js'

/** `varnishd` and the varnish-modules `xkey` vmod are installed (Debian: varnish, varnish-modules). */
export const hasVarnish = ((): boolean => {
  const which = spawnSync('varnishd', ['-V'], { encoding: 'utf8' })
  if (which.error !== undefined || which.status !== 0) return false
  const vmods = spawnSync('sh', ['-c', 'ls /usr/lib/*/varnish/vmods/libvmod_xkey.so'], {
    encoding: 'utf8',
  })
  return vmods.status === 0
})()

/** The VCL of docs/cdn.md, pointed at `backendPort`. */
export const vcl = (backendPort: number): string => `vcl 4.1;
import xkey;
import std;

backend default { .host = "127.0.0.1"; .port = "${backendPort}"; }
acl purgers { "127.0.0.1"; }

sub vcl_recv {
  if (req.method == "PURGE") {
    if (client.ip !~ purgers) { return (synth(403, "Forbidden")); }
    if (req.http.xkey-purge) {
      set req.http.n-gone = xkey.purge(req.http.xkey-purge);
    } else {
      set req.http.n-gone = xkey.softpurge(req.http.xkey-softpurge);
    }
    return (synth(200, "Invalidated " + req.http.n-gone + " objects"));
  }
}

sub vcl_backend_response {
  if (beresp.http.Surrogate-Control ~ "no-store") {
    set beresp.uncacheable = true;
    set beresp.ttl = 120s;
    return (deliver);
  }
  if (beresp.http.Surrogate-Control ~ "max-age=") {
    set beresp.ttl = std.duration(
      regsub(beresp.http.Surrogate-Control, ".*max-age=([0-9]+).*", "\\1") + "s", 0s);
  }
}

sub vcl_deliver {
  unset resp.http.Surrogate-Control;
  unset resp.http.xkey;
}
`

/** A `varnishd` in the foreground on a free port, in front of 127.0.0.1:`backendPort`. */
export async function startVarnish(backendPort: number): Promise<{
  url: string
  stop(): Promise<void>
}> {
  const dir = mkdtempSync(join(tmpdir(), 'cg-varnish-'))
  const vclFile = join(dir, 'default.vcl')
  writeFileSync(vclFile, vcl(backendPort), { mode: 0o644 })
  // Run as root, varnishd reads its VCL as its unprivileged jail user.
  chmodSync(dir, 0o755)
  const port = await freePort()
  const child: ChildProcess = spawn(
    'varnishd',
    ['-F', '-f', vclFile, '-a', `127.0.0.1:${port}`, '-n', join(dir, 'n'), '-s', 'malloc,32m'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 15_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`varnishd exited: ${stderr}`)
    try {
      await fetch(`${url}/`, { method: 'HEAD' })
      break
    } catch {
      if (Date.now() > deadline) throw new Error(`varnishd did not start: ${stderr}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  return {
    url,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        await exited
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
