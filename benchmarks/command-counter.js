// Counting Redis commands at the server (for round-trips.js): a MONITOR connection reports every
// command the server runs, in order, with the address of the connection that sent it (or `lua`
// for calls made inside a script). A window between two ECHO fences holds exactly the commands
// run between them.

/**
 * Counts what MONITOR reports. `measure(addresses, fn)` runs `fn` between two fences (ECHOs of
 * unique text sent on `admin`) and returns
 * the commands the connections at `addresses` sent meanwhile, by name, with the calls their
 * scripts made and their bus heartbeats apart.
 */
export function commandCounter(monitor, admin, prefix) {
  /** Addresses of the named connections; undefined until they are all open and listed. */
  let known
  let window
  /** Where the `lua` lines of the script just reported go (undefined: not a measured script). */
  let scriptCalls
  const fences = new Map()
  const strays = []
  let fenceCount = 0

  monitor.on('monitor', (_time, args, source) => {
    const name = String(args[0] ?? '').toUpperCase()
    if (source === 'lua') {
      if (scriptCalls !== undefined) bump(scriptCalls, name)
      return
    }
    scriptCalls = undefined
    if (name === 'ECHO' && fences.has(args[1])) {
      fences.get(args[1])()
      fences.delete(args[1])
      return
    }
    if (window !== undefined && window.addresses.has(source)) {
      const heartbeat = isHeartbeat(name, args)
      bump(heartbeat ? window.background : window.commands, name)
      if (name.startsWith('EVAL') || name.startsWith('FCALL')) {
        scriptCalls = heartbeat ? window.backgroundScripts : window.scriptCalls
      }
      return
    }
    // A command on our keys from a connection we did not name: something would go uncounted.
    if (
      known !== undefined &&
      !known.has(source) &&
      args.some((arg) => String(arg).includes(prefix))
    ) {
      strays.push(`${source} ${name}`)
    }
  })

  /** Resolves once MONITOR has reported an ECHO sent after every command before it. */
  function fence(onSeen) {
    const text = `${prefix}:fence:${++fenceCount}`
    return new Promise((resolve, reject) => {
      // MONITOR reports every command: a fence not seen within 10 s means the monitor is gone.
      const timer = setTimeout(() => reject(new Error('MONITOR did not report a fence')), 10_000)
      fences.set(text, () => {
        clearTimeout(timer)
        onSeen()
        resolve()
      })
      admin.echo(text).catch(reject)
    })
  }

  async function measure(addresses, fn) {
    const open = {
      addresses,
      commands: {},
      scriptCalls: {},
      background: {},
      backgroundScripts: {},
    }
    await fence(() => (window = open))
    const t0 = Date.now()
    await fn()
    const ms = Date.now() - t0
    await fence(() => (window = undefined))
    return { ...open, ms }
  }

  return {
    measure,
    strays,
    know: (addresses) => (known = addresses),
  }
}

/**
 * cachegraph's bus background: the HEARTBEAT script, whose one key is `{P}:seq`, and the
 * membership refresh (JOIN), whose one key is `{P}:members` (the other scripts have neither).
 */
function isHeartbeat(name, args) {
  return (
    (name === 'EVALSHA' || name === 'EVAL') &&
    args[2] === '1' &&
    /^\{.+\}:(seq|members)$/.test(args[3])
  )
}

export function bump(counts, name) {
  counts[name] = (counts[name] ?? 0) + 1
}

export function sum(counts) {
  return Object.values(counts).reduce((a, b) => a + b, 0)
}
