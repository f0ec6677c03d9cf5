import type { Cluster, Redis } from 'ioredis'

import { NOW } from './fleet-scripts.js'
import { runScript, script } from './runner.js'

/**
 * Forgetting old tag records. Every superseding `set` of a key leaves that key's `@key:` record
 * in `{P}:h`, and every invalidated tag its record, after the entries they judged are long gone:
 * without this, a prefix that writes many distinct keys grows by about 100 bytes a key for as
 * long as it lives. A record can go once the floor is at or above it — a tag without a record
 * reads as invalidated at the floor, so nothing it refused becomes valid — and raising the floor
 * costs nothing once every entry older than it has expired. So the store notes, now and then,
 * the sequence at that moment (`{P}:marks`, score: the server's time); once a mark is
 * `keepRecords` old, the floor rises to it and the records at or below the floor are deleted, a
 * bounded number per call. Both in one script: no read sees a record gone but the floor below it.
 *
 * The known key tags (`{P}:k`, `@key:` tag → the sequence when a stored entry last carried it)
 * grow the same way, and go by the same mark, but only below it: a tag marked before the mark's
 * sequence was reached was last carried by an entry stored more than `keepRecords` ago, which
 * has expired everywhere (createCache keeps `maxLifetime` with grace within `keepRecords`), so no
 * entry and no copy of one is built on it; forgetting it only lets the next superseding `set` of
 * that key go unpublished (quiet). A tag marked at the mark's sequence itself may have been
 * carried after the mark was made — loads mark with the current sequence without taking a step —
 * so it stays until a later mark passes it (the floor, which a restart also raises, is no bound
 * here either). The markers (field `''`) of the three hashes never go.
 *
 * Keys, all in the `{P}` slot: `{P}:marks` (sorted set `seq → time`), `{P}:trim:h`,
 * `{P}:trim:s` and `{P}:trim:k` (an `HSCAN` cursor: where the pass over the hashes, `{P}:h`,
 * `{P}:s` then `{P}:k`, stopped in the one it is in; the other two keys are absent).
 */

/**
 * Fields (records and known key tags) examined per call, the three hashes together: a call stops
 * at the end of the `HSCAN` page (about 500 fields) that reaches it. A call that deletes as many
 * holds Redis for about 3 ms (5,000 took 14 ms), so a store that writes calls often rather than
 * much.
 */
export const TRIM_BUDGET = 1_000

/**
 * How often a store that writes trims, at most (ms): up to 4,000 records a second. Marks are
 * made at most every minute, and both at most every tenth of the window.
 */
const TRIM_EVERY_MS = 250

/**
 * Arguments of steps scripts this store sent since its last trim, at least, before the next one
 * (a record takes a few arguments: the call examines several times what was added). A store
 * that writes little trims seldom, and a handful of calls never brings a trim in between.
 */
const TRIM_AFTER_ARGS = 1_000
const MARK_EVERY_MS = 60_000

/**
 * trim: KEYS = [`{P}:seq`]; ARGV = [prefix, keepMs, markEveryMs, budget]. Returns
 * `[removed, floor]`: the fields deleted (records of `{P}:h` and `{P}:s`, marks of `{P}:k`), and
 * the floor after the call (`0` when there is no state, or no mark is old enough yet).
 */
export const TRIM = `${NOW}
local S = '{' .. ARGV[1] .. '}:'
local seq = redis.call('GET', KEYS[1])
if not seq then return { 0, 0 } end
local marks = S .. 'marks'
local newest = redis.call('ZRANGE', marks, -1, -1, 'WITHSCORES')
-- A sequence that has not moved keeps its first mark (marking it again would move it forward).
if #newest == 0 or (newest[1] ~= seq and now - tonumber(newest[2]) >= tonumber(ARGV[3])) then
  redis.call('ZADD', marks, now, seq)
end
-- The newest mark at least keepMs old: everything older than it has expired.
local old = redis.call('ZREVRANGEBYSCORE', marks, now - tonumber(ARGV[2]), '-inf', 'WITHSCORES', 'LIMIT', 0, 1)
if #old == 0 then return { 0, 0 } end
redis.call('ZREMRANGEBYSCORE', marks, '-inf', '(' .. old[2])
local floor = tonumber(redis.call('GET', S .. 'floor') or '0')
local bound = tonumber(old[1])
if bound > floor then
  floor = bound
  redis.call('SET', S .. 'floor', old[1])
end
-- What goes: the fields of each hash below this (sequences are integers below 2^53, so +1 is
-- exact). A record at the floor goes too, a known key tag only below the mark (see above).
local below = { h = floor + 1, s = floor + 1, k = bound }
local names = { 'h', 's', 'k' }
-- One pass goes over the hashes in turn, over as many calls as it takes, and starts over: it is
-- in the one whose cursor key there is (none yet: the first).
local at = 1
for i, name in ipairs(names) do
  if redis.call('EXISTS', S .. 'trim:' .. name) == 1 then at = i; break end
end
-- The budget is the call's, whichever hashes it is spent on; a call goes over each hash once at
-- most.
local removed, examined, budget, passed = 0, 0, tonumber(ARGV[4]), 0
while examined < budget and passed < #names do
  local name = names[at]
  local hash, cursorKey, limit = S .. name, S .. 'trim:' .. name, below[name]
  local cursor = redis.call('GET', cursorKey) or '0'
  repeat
    local page = redis.call('HSCAN', hash, cursor, 'COUNT', 500)
    cursor = page[1]
    local fields = page[2]
    local dead = {}
    for i = 1, #fields, 2 do
      -- The field '' is the hash's marker: never deleted.
      if fields[i] ~= '' and tonumber(fields[i + 1]) < limit then dead[#dead + 1] = fields[i] end
    end
    examined = examined + #fields / 2
    if #dead > 0 then
      redis.call('HDEL', hash, unpack(dead))
      removed = removed + #dead
    end
  until cursor == '0' or examined >= budget
  if cursor ~= '0' then
    redis.call('SET', cursorKey, cursor)
  else
    -- This hash is done: the pass goes on with the next one (in this call, budget left).
    redis.call('DEL', cursorKey)
    passed = passed + 1
    at = at % #names + 1
    redis.call('SET', S .. 'trim:' .. names[at], '0')
  end
end
return { removed, string.format('%.0f', floor) }
`

const TRIM_SCRIPT = script(TRIM)

/** What one trim call did. */
export interface TrimResult {
  /** Fields deleted: records (`{P}:h`, `{P}:s`) and known key tags (`{P}:k`) together. */
  removed: number
  /** The store's floor after it (0: no mark was old enough yet). */
  floor: number
}

/** A store's trimming of its records: after its own steps, at most every 250 ms. */
export class RecordsTrim {
  readonly #client: Redis | Cluster
  readonly #prefix: string
  readonly #seqKey: string
  readonly #keepMs: number
  readonly #everyMs: number
  #lastAt = Date.now()
  /** Arguments of steps sent since the last trim. */
  #sent = 0
  #running = false

  constructor(client: Redis | Cluster, prefix: string, seqKey: string, keepMs: number) {
    this.#client = client
    this.#prefix = prefix
    this.#seqKey = seqKey
    this.#keepMs = keepMs
    this.#everyMs = Math.min(TRIM_EVERY_MS, keepMs / 10)
  }

  /**
   * After a run of the steps script with `args` arguments: trims once enough was sent and the
   * last call is old enough (never two at once).
   */
  afterStep(args: number, report: (error: unknown) => void): void {
    if (this.#keepMs === Infinity) return
    this.#sent += args
    if (this.#running || this.#sent < TRIM_AFTER_ARGS) return
    const now = Date.now()
    if (now - this.#lastAt < this.#everyMs) return
    this.#lastAt = now
    this.#sent = 0
    this.#running = true
    this.run()
      .catch(report)
      .finally(() => (this.#running = false))
  }

  /**
   * One trim call now (a mark, and the records at or below a mark `keepRecords` old, the known
   * key tags below it).
   */
  async run(): Promise<TrimResult> {
    if (this.#keepMs === Infinity) return { removed: 0, floor: 0 }
    const [removed, floor] = (await runScript(
      this.#client,
      TRIM_SCRIPT,
      [this.#seqKey],
      [
        this.#prefix,
        String(this.#keepMs),
        String(Math.min(MARK_EVERY_MS, this.#keepMs / 10)),
        String(TRIM_BUDGET),
      ],
    )) as [number, string | number]
    return { removed: Number(removed), floor: Number(floor) }
  }
}
