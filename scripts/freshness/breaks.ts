/**
 * Injected bugs, to show that the checker notices when a protection is missing. Each one patches
 * the *compiled* library in a throw-away copy of `dist/` (library.ts) — the library itself has no
 * switch for them. A patch names the code it breaks, not a file: the one file of `dist/` where its
 * pattern matches (and `near`, when given, too) is found by searching, so the library's files may
 * move. Patterns are short and must match exactly once: when the source moves on and a pattern no
 * longer fits, the run stops at startup instead of testing an unbroken library.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface Patch {
  /** The file under `dist/` where `find` is: found by searching `dist/` (see {@link locate}). */
  readonly file: string
  find: RegExp
  replace: string
}

interface PatchSpec {
  find: RegExp
  replace: string
  /** Also in the file (a class or function name): tells apart files where `find` could match. */
  near?: RegExp
}

export interface Break {
  name: string
  what: string
  patches: Patch[]
}

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url))
const SRC = fileURLToPath(new URL('../../src/', import.meta.url))

let built: { file: string; text: string }[] | undefined

/** Every compiled module of `dist/` whose source still exists (read once): a file left from an
 * older build of a module that moved is not the library any more. */
function distFiles(): { file: string; text: string }[] {
  built ??= readdirSync(DIST, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.js') && existsSync(join(SRC, file.replace(/\.js$/, '.ts'))))
    .map((file) => ({
      file: relative(DIST, join(DIST, file)),
      text: readFileSync(join(DIST, file), 'utf8'),
    }))
  return built
}

/** The one file of `dist/` where `spec.find` (and `spec.near`) matches; throws when not one. */
export function locate(spec: PatchSpec): string {
  const found = distFiles().filter(
    ({ text }) => spec.find.test(text) && (spec.near === undefined || spec.near.test(text)),
  )
  if (found.length !== 1) {
    throw new Error(
      `freshness: the pattern ${String(spec.find)} is in ${found.length} files of dist/ ` +
        `(${found.map((f) => f.file).join(', ') || 'none'}; expected one): the library changed, ` +
        'update scripts/freshness/breaks.ts (or run `npm run build`)',
    )
  }
  return (found[0] as { file: string }).file
}

/** A patch whose file is looked up in `dist/` when first needed. */
function patch(spec: PatchSpec): Patch {
  let file: string | undefined
  return {
    find: spec.find,
    replace: spec.replace,
    get file() {
      return (file ??= locate(spec))
    },
  }
}

export const BREAKS: readonly Break[] = [
  {
    // commit() checks `valid(w, w.start)` against the registry before it fills the L1, and the
    // Redis steps script refuses entries whose tags have a hard record above their start.
    name: 'in-flight-guard',
    what: 'a load that began before an invalidation is stored anyway',
    patches: [
      patch({
        find: /const valid = \(w, start\) =>/,
        replace: '$& true ||',
        near: /function commit\(/,
      }),
      patch({
        find: /oks\[i\] = (?:sure\[i\] or )?valid\(/,
        replace: 'oks[i] = true or valid(',
      }),
    ],
  },
  {
    // FleetSync#handle replays from the store's log when a message (or heartbeat) is past
    // `through + 1`; broken, it moves `through` up to the message as if nothing was missed.
    name: 'gap-detection',
    what: 'a bus message past a gap is taken as if nothing was missed',
    patches: [
      patch({
        find: /this\.#busHighest = message\.seq;(\s*)this\.#advance\(\);/,
        replace:
          "if (message.seq > this.#through) this.#through = message.kind === 'heartbeat' ? message.seq : message.seq - 1;$1$&",
        near: /class FleetSync\b/,
      }),
    ],
  },
  {
    // mergeInto() keeps, for every tag of a nested input, the input's own start; broken, the
    // enclosing load records them as of its own (later) start and its start stays its own.
    name: 'nesting-start',
    what: "an enclosing load takes its nested inputs' tags as of its own start",
    patches: [
      patch({
        find: /const tagStart = tagStarts === undefined \? start : tagStarts\[i\];/,
        replace: 'const tagStart = frame.ownStart;',
        near: /function mergeInto\(/,
      }),
      patch({
        find: /if \(start < frame\.start\)/,
        replace: 'if (false)',
        near: /function mergeInto\(/,
      }),
    ],
  },
  {
    // FleetAcks#wait waits for every member's answer (or maxSilence); broken, an
    // acknowledged invalidation resolves once requested, as if everyone had answered.
    name: 'ack-wait',
    what: '{ ack: true } resolves without waiting for the members (run with --ack)',
    patches: [
      patch({
        find: /await wait\.settled\(/,
        replace: 'void wait.settled(',
        near: /class FleetAcks\b/,
      }),
      patch({
        find: /const late = asked\.filter\(/,
        replace: 'const late = [].filter(',
        near: /class FleetAcks\b/,
      }),
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
