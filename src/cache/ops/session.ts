import { AsyncLocalStorage } from 'node:async_hooks'

import { CacheError } from '../../errors.js'

/** `cache.session(id, fn, { loopDetection })`: guards agent tool loops within one session. */
export interface LoopDetectionOptions {
  /** The same call (key, hit or miss) more often than this in one session is a loop. @default 5 */
  maxRepeats?: number
  /** Cached calls nested deeper than this (a loader calling cached calls ...) is a loop. @default 50 */
  maxDepth?: number
  /** Calls alternating between two or three keys (A B A B, A B C A B C) is a loop. @default true */
  oscillation?: boolean
  /**
   * What a detected loop does: `'raise'` rejects the call with `E_LOOP_DETECTED`; `'warn'` emits
   * a `loop` event and carries on; `'shortCircuit'` answers with the value this session last got
   * for that call without running anything (or rejects when there is none).
   * @default 'raise'
   */
  onLoop?: 'raise' | 'warn' | 'shortCircuit'
}

/** Options of `cache.session()`. */
export interface SessionOptions {
  /** `true` for the defaults, or limits of your own. Off by default. */
  loopDetection?: boolean | LoopDetectionOptions
}

/** Why a loop was reported. */
export type LoopKind = 'repeat' | 'depth' | 'oscillation'

/** One live session of one cache. */
export interface SessionState {
  readonly id: string
  /** Owner (one engine): sessions of two caches never mix. */
  readonly owner: object
  /** Prefix of this session's private L1 keys. */
  readonly prefix: string
  /** Open `session(id)` calls; the session ends when the last settles. */
  refs: number
  /** Private entries, dropped when the session ends. */
  readonly keys: Set<string>
  readonly loop: LoopDetector | undefined
}

const storage = new AsyncLocalStorage<SessionState>()
const live = new WeakMap<object, Map<string, SessionState>>()
let openSessions = 0
let sequence = 0

/** The session of `owner` this code runs in, if any (free while no session is open). */
export function currentSession(owner: object): SessionState | undefined {
  if (openSessions === 0) return undefined
  const session = storage.getStore()
  return session?.owner === owner ? session : undefined
}

/** True while any session is open anywhere in the process (hit paths then take the slow road). */
export function sessionsOpen(): boolean {
  return openSessions > 0
}

/**
 * Runs `fn` inside session `id` of `owner`. Concurrent and nested calls with the same id share
 * one session, which ends — calling `onEnd` with its private keys — when the last one settles.
 */
export async function runSession<T>(
  owner: object,
  id: string,
  options: SessionOptions,
  fn: () => T | Promise<T>,
  onEnd: (keys: Set<string>) => void,
): Promise<T> {
  if (typeof id !== 'string' || id.length === 0) {
    throw new CacheError('E_INVALID_KEY', 'cachegraph: a session id must be a non-empty string')
  }
  let sessions = live.get(owner)
  if (sessions === undefined) live.set(owner, (sessions = new Map<string, SessionState>()))
  let session = sessions.get(id)
  if (session === undefined) {
    const loop = options.loopDetection
    session = {
      id,
      owner,
      prefix: `\0s${++sequence}\0`,
      refs: 0,
      keys: new Set(),
      loop:
        loop === undefined || loop === false
          ? undefined
          : new LoopDetector(loop === true ? {} : loop),
    }
    sessions.set(id, session)
    openSessions++
  }
  session.refs++
  try {
    return await storage.run(session, fn)
  } finally {
    if (--session.refs === 0) {
      sessions.delete(id)
      openSessions--
      onEnd(session.keys)
    }
  }
}

/** Counts a session's cached calls and recognizes loops. */
export class LoopDetector {
  readonly maxRepeats: number
  readonly maxDepth: number
  readonly oscillation: boolean
  readonly onLoop: 'raise' | 'warn' | 'shortCircuit'
  readonly #counts = new Map<string, number>()
  readonly #recent: string[] = []
  readonly #lastValues = new Map<string, unknown>()

  constructor(options: LoopDetectionOptions) {
    this.maxRepeats = positive(options.maxRepeats ?? 5, 'loopDetection.maxRepeats')
    this.maxDepth = positive(options.maxDepth ?? 50, 'loopDetection.maxDepth')
    this.oscillation = options.oscillation ?? true
    this.onLoop = options.onLoop ?? 'raise'
    if (!['raise', 'warn', 'shortCircuit'].includes(this.onLoop)) {
      throw new CacheError(
        'E_INVALID_OPTION',
        "cachegraph: option `loopDetection.onLoop` must be 'raise', 'warn' or 'shortCircuit'",
      )
    }
  }

  /** Records one call; returns the kind of loop it closes, if any. */
  record(key: string, depth: number): LoopKind | undefined {
    const count = (this.#counts.get(key) ?? 0) + 1
    this.#counts.set(key, count)
    const recent = this.#recent
    recent.push(key)
    if (recent.length > 6) recent.shift()
    if (depth > this.maxDepth) return 'depth'
    if (count > this.maxRepeats) return 'repeat'
    if (this.oscillation && (cycles(recent, 2) || cycles(recent, 3))) return 'oscillation'
    return undefined
  }

  /** Remembers what a call returned, for `shortCircuit`. */
  remember(key: string, value: unknown): void {
    this.#lastValues.set(key, value)
  }

  lastValue(key: string): { found: boolean; value?: unknown } {
    return this.#lastValues.has(key)
      ? { found: true, value: this.#lastValues.get(key) }
      : { found: false }
  }
}

/** The last `2 * period` calls are one cycle of `period` distinct keys, twice. */
function cycles(recent: readonly string[], period: number): boolean {
  if (recent.length < 2 * period) return false
  const tail = recent.slice(-2 * period)
  const cycle = tail.slice(0, period)
  if (new Set(cycle).size !== period) return false
  return cycle.every((key, i) => tail[i + period] === key)
}

function positive(value: number, option: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new CacheError(
      'E_INVALID_OPTION',
      `cachegraph: option \`${option}\` must be a positive integer`,
    )
  }
  return value
}
