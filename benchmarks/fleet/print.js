// What `fleet.js` prints of each fleet as it is measured.

import { OP_TIMEOUT_MS } from './host.js'

export const f2 = (n) => (Number.isFinite(n) ? n.toFixed(2) : '—')
const int = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—')

export function printFleet(f) {
  console.log(
    `  ${f.trusted} of ${f.members} trusted; idle: ${f2(f.idle.commandsPerSecond)} commands/s, ` +
      `${f2(f.idle.perMember)} per member`,
  )
  if (f.propagation) {
    const p = f.propagation
    console.log(
      `  propagation: ${p.applied} of ${p.expected} applied (${p.failed} calls threw${p.timedOut ? `, stopped: a call took over ${OP_TIMEOUT_MS} ms` : ''}); ms p50 ${f2(p.ms?.p50)} p99 ` +
        `${f2(p.ms?.p99)} max ${f2(p.ms?.max)}; whole fleet p99 ${f2(p.wholeFleetMs?.p99)}`,
    )
  }
  if (f.skipped) return
  const a = f.acked
  console.log(
    `  acked invalidation: ${a.calls} calls (${a.failed} threw${a.firstError ? ` (${a.firstError})` : ''}${a.timedOut ? `, stopped: a call took over ${OP_TIMEOUT_MS} ms` : ''}), p50 ${f2(a.ms?.p50)} ms p99 ${f2(a.ms?.p99)} ms, ` +
      `${f2(a.commandsPerCall)} commands and ${f2(a.redisCpuUsPerCall)} µs Redis CPU per call ` +
      `(net of idle); members ${a.members}, acked ${a.acked}, late ${a.late}`,
  )
  for (const [what, w] of [
    ['one writer', f.writeOne],
    ['whole fleet', f.writeAll],
    ['one writer deleting (sets read deletes, SET DEL)', f.deleteOne],
  ]) {
    if (!w) continue
    console.log(
      `  ${what}: cachegraph ${int(w.setsPerSec.cachegraph)} sets/s, raw ${int(w.setsPerSec.raw)} ` +
        `SET/s, ratio ${f2(w.ratio.median)} (${f2(w.ratio.min)}–${f2(w.ratio.max)}); per set ` +
        `${f2(w.perSet.cachegraph.commands)} commands, ${f2(w.perSet.cachegraph.redisCpuUs)} µs ` +
        `Redis CPU (raw ${f2(w.perSet.raw.redisCpuUs)} µs), CPU µs of the writing processes ` +
        `${f2(w.perSet.cachegraph.writersCpuUs)} (raw ${f2(w.perSet.raw.writersCpuUs)}) and of ` +
        `the others ${f2(w.perSet.cachegraph.listenersCpuUs)} (raw ` +
        `${f2(w.perSet.raw.listenersCpuUs)}); ${w.notStored} not stored`,
    )
  }
}
