/**
 * Injected bugs, to show that the checker notices when a protection is missing. Each one patches
 * the *compiled* library in a throw-away copy of `dist/` (library.ts) — the library itself has no
 * switch for them. Patterns are short and must match exactly once: when the source moves on and
 * a pattern no longer fits, the run stops at startup instead of testing an unbroken library.
 */
export interface Patch {
  /** Under `dist/`. */
  file: string
  find: RegExp
  replace: string
}

export interface Break {
  name: string
  what: string
  patches: Patch[]
}

export const BREAKS: readonly Break[] = [
  {
    // commit() checks `valid(w, w.start)` against the registry before it fills the L1, and the
    // Redis WRITE script refuses entries whose tags have a hard record above their start.
    name: 'in-flight-guard',
    what: 'a load that began before an invalidation is stored anyway',
    patches: [
      { file: 'cache/write.js', find: /const valid = \(w, start\) =>/, replace: '$& true ||' },
      {
        file: 'stores/redis-scripts.js',
        find: /oks\[i\] = valid\(/,
        replace: 'oks[i] = true or valid(',
      },
    ],
  },
  {
    // FleetSync#handle replays from the store's log when a message (or heartbeat) is past
    // `through + 1`; broken, it moves `through` up to the message as if nothing was missed.
    name: 'gap-detection',
    what: 'a bus message past a gap is taken as if nothing was missed',
    patches: [
      {
        file: 'cache/fleet-sync.js',
        find: /this\.#busHighest = message\.seq;(\s*)this\.#advance\(\);/,
        replace:
          "if (message.seq > this.#through) this.#through = message.kind === 'heartbeat' ? message.seq : message.seq - 1;$1$&",
      },
    ],
  },
  {
    // mergeInto() keeps, for every tag of a nested input, the input's own start; broken, the
    // enclosing load records them as of its own (later) start and its start stays its own.
    name: 'nesting-start',
    what: "an enclosing load takes its nested inputs' tags as of its own start",
    patches: [
      {
        file: 'memo/context.js',
        find: /const tagStart = tagStarts === undefined \? start : tagStarts\[i\];/,
        replace: 'const tagStart = frame.ownStart;',
      },
      { file: 'memo/context.js', find: /if \(start < frame\.start\)/, replace: 'if (false)' },
    ],
  },
  {
    // FleetAcks#wait waits for every member's answer (or maxSilence); broken, an
    // acknowledged invalidation resolves once requested, as if everyone had answered.
    name: 'ack-wait',
    what: '{ ack: true } resolves without waiting for the members (run with --ack)',
    patches: [
      { file: 'cache/fleet-acks.js', find: /await wait\.settled\(/, replace: 'void wait.settled(' },
      {
        file: 'cache/fleet-acks.js',
        find: /const late = asked\.filter\(/,
        replace: 'const late = [].filter(',
      },
    ],
  },
]

export const BREAK_NAMES = BREAKS.map((b) => b.name)

/** Applies a patch to a file's text; throws when the pattern is not there exactly once. */
export function applyPatch(text: string, patch: Patch): string {
  const global = new RegExp(patch.find.source, 'g')
  const matches = text.match(global)?.length ?? 0
  if (matches !== 1) {
    throw new Error(
      `freshness: the pattern ${String(patch.find)} matches ${matches} times in dist/${patch.file} ` +
        '(expected once): the library changed, update scripts/freshness/breaks.ts',
    )
  }
  return text.replace(patch.find, patch.replace)
}
