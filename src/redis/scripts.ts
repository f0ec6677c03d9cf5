import { QUIET } from './quiet-script.js'

/**
 * The Lua scripts of the Redis store: each store call is one script, so one round trip. The
 * steps script, which writes and invalidates, is in `steps-script.ts`.
 *
 * Keys under prefix `P` (`keys.ts` builds the same names in TypeScript; the `{P}` ones share one
 * hash slot; none has a ttl):
 * - `{P}:seq`, `{P}:epoch`, `{P}:floor` — the sequence, its epoch, and the lowest sequence the
 *   records vouch for. Plain strings, so one `MGET` reads them with entries. Created together,
 *   seeded from `TIME` in microseconds, so a Redis that lost its state starts above every
 *   sequence it handed out before, with a new epoch.
 * - `{P}:h`, `{P}:s` — hashes `tag → sequence` of the last hard / soft invalidation of each tag;
 *   a read fetches the records of all its tags with one `HMGET` each. Each also holds a marker
 *   (the field `''`) equal to `{P}:seq`: every script checks both markers, so records that were
 *   evicted, deleted or restored from an older copy are lost state, never a tag without a record.
 * - `{P}:k` — hash `key tag → sequence` of the `@key:` tags stored entries carry, with a marker
 *   field `''` that every script checks (its loss is lost state): a superseding step none of whose
 *   key tags is there is quiet (`quietFor`). `{P}:pub` — the last step published.
 * - `{P}:bus` — the channel every sequence step but the quiet ones is published on (see `bus.ts`),
 *   and `{P}:log` — a stream of the same messages (quiet steps included) for the last
 *   {@link LOG_WINDOW_MS} ms, from which a process that missed messages replays them.
 * - `P:e:<key>` — an entry: the string `start \n tags (JSON) \n tag starts (JSON | '') \n
 *   payload`, always with a ttl, outside the `{P}` slot so a cluster spreads entries.
 *
 * Sequences stay below 2^53, exact in Lua's doubles. Values read from Redis travel back as the
 * strings they are; only new sequences are formatted (with `%.0f`: `tostring` would print them
 * in exponent form).
 */

/** How long the replay log keeps messages: a process that missed less than this catches up. */
export const LOG_WINDOW_MS = 10_000

/** Shared by the standalone and cluster scripts. */
export const PRELUDE = `
local P = ARGV[1]
local S = '{' .. P .. '}:'
-- '%d' formats a Lua number as a C long (64 bits here): exact below 2^53, and far cheaper than
-- '%.0f', which goes through the floating-point printer.
local function fmt(n) return string.format('%d', n) end
-- The records' own marker: a field no tag can be ('' is never a tag) holding the sequence the
-- records are complete up to. Every step moves it in both hashes, so a records key that was
-- evicted or deleted (no marker) or put back from an older copy (a lower marker) no longer
-- matches the sequence, and is caught by state() like a lost sequence.
local M = ''
-- Starts the state over: a new epoch, a sequence above every one handed out before (seeded from
-- TIME in microseconds), the floor there, and empty records that vouch for nothing older.
local function restart(lastSeq)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local seq = fmt(math.max(now, tonumber(lastSeq or '0') + 1))
  local epoch = t[1] .. '.' .. t[2]
  -- {P}:pub goes too: until a step of the new state is published, none is quiet (quietFor), so
  -- every process hears of the loss from the first step, as before quiet steps.
  redis.call('DEL', S .. 'h', S .. 's', S .. 'k', S .. 'pub')
  redis.call('MSET', S .. 'seq', seq, S .. 'epoch', epoch, S .. 'floor', seq, S .. 'w', seq .. ' ' .. seq)
  redis.call('HSET', S .. 'h', M, seq)
  redis.call('HSET', S .. 's', M, seq)
  redis.call('HSET', S .. 'k', M, seq)
  return seq, epoch, seq
end
-- The sequence as the steps taken so far in this script left it (set by state()), and as a number.
local cur, curN = nil, nil
-- The current seq, epoch and floor, after checking that none of the state, records included, was
-- lost; a loss starts it over.
local function state()
  local st = redis.call('MGET', S .. 'seq', S .. 'epoch', S .. 'floor')
  if st[1] and st[2] and st[3]
    and redis.call('HGET', S .. 'h', M) == st[1]
    and redis.call('HGET', S .. 's', M) == st[1]
    and redis.call('HEXISTS', S .. 'k', M) == 1 then
    cur, curN = st[1], tonumber(st[1])
    return st[1], st[2], st[3]
  end
  local seq, epoch, floor = restart(st[1])
  cur, curN = seq, tonumber(seq)
  return seq, epoch, floor
end
-- Every step of the sequence is announced but the quiet ones (see quietFor), so subscribers see
-- an unbroken chain of steps and notice a gap. One message per script, whatever the number of
-- steps it took: the lines last, epoch, kinds, origin, after and the JSON list of each step's
-- tags, where kinds has one letter per step ('h' hard, 's' soft, '-' quiet, its tags '[]') and the
-- steps are last - #kinds + 1 .. last; after is the last step published before this message
-- ({P}:pub), so every step between after and this message's first was quiet. A heartbeat is kinds
-- 'b', no step and no tags, after the last step published. origin: the member id of the process
-- that sent the call. loud: the message is published (a script whose steps are all quiet only
-- logs it). Returns how many subscribers the message reached (0 when not published).
local function announce(last, epoch, kinds, body, origin, after, loud)
  local message = last .. '\\n' .. epoch .. '\\n' .. kinds .. '\\n' .. origin .. '\\n' .. after .. '\\n' .. body
  local listeners = loud and redis.call('PUBLISH', S .. 'bus', message) or 0
  if kinds ~= 'b' then
    local t = redis.call('TIME')
    local oldest = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - ${LOG_WINDOW_MS}
    redis.call('XADD', S .. 'log', 'MINID', '~', fmt(oldest), '*', 'm', message)
  end
  return listeners
end
local function hmget(key, fields)
  local out = {}
  for i = 1, #fields, 1000 do
    local part = redis.call('HMGET', key, unpack(fields, i, math.min(i + 999, #fields)))
    for j = 1, #part do out[#out + 1] = part[j] end
  end
  return out
end
-- The steps this script took, for its one message: a letter and the tags JSON of each.
local kinds, bodies = {}, {}
-- The watermark {P}:w, 'w seq' (read by store.ts to prove entries valid with one MGET): no
-- record above w exists but those of superseding writes that replaced their key's entry in the
-- same step, and seq is the sequence it is current at, so a copy that fell behind the sequence
-- is not believed. wHigh: the highest step of this script it must cover (every step does, but a
-- write that replaced every entry it superseded puts the one before back).
local wHigh = nil
-- The w of the watermark if it is current at seq, else nil.
local function watermarkAt(seq)
  local was = redis.call('GET', S .. 'w')
  local sp = was and string.find(was, ' ', 1, true)
  if sp and string.sub(was, sp + 1) == seq then return string.sub(was, 1, sp - 1) end
  return nil
end
-- The highest sequence a record may have: seq, or the last step logged if higher (a sequence
-- put back below steps whose records are still there). Every step that records tags is logged.
local function highest(seq)
  local last = redis.call('XREVRANGE', S .. 'log', '+', '-', 'COUNT', 1)[1]
  local logged = last and tonumber(string.match(last[2][2], '^(%d+)')) or 0
  return fmt(math.max(tonumber(seq), logged))
end
local function watermark()
  local kept = watermarkAt(fmt(curN - #kinds))
  local w = wHigh
  if kept == nil then w = highest(cur)
  elseif w == nil or tonumber(kept) > tonumber(w) then w = kept end
  redis.call('SET', S .. 'w', w .. ' ' .. cur)
end
-- Whether a write (ARGV from base, 7 per entry, out its reply) stored every superseding entry
-- under the key its key tag names.
local function replaced(n, asOf, base, out)
  for i = 0, n - 1 do
    local b = base + i * 7
    if ARGV[b + 4] == '' and asOf == '' and ARGV[b + 5] ~= '' then
      if out[3 + i] ~= 1 or ARGV[b + 5] ~= '@key:' .. ARGV[b] then return false end
    end
  end
  return true
end
-- The records the script's steps made, tag -> sequence per hash: written once, with the markers,
-- in finish() (one HSET per hash for all steps, not one per step); a later call of the same script
-- reads them from here (plan()), so it still sees what the calls before it did.
local recorded = { h = {}, s = {} }
-- A list of tags as JSON: written out directly when no tag has a character JSON escapes (cjson
-- also escapes '/'), else by cjson.
local function json(tags)
  for _, tag in ipairs(tags) do
    if string.find(tag, '[%c"\\\\/\\128-\\255]') then return cjson.encode(tags) end
  end
  return #tags > 0 and '["' .. table.concat(tags, '","') .. '"]' or '[]'
end
${QUIET}
-- Takes the next sequence for an invalidation of tags (a Lua list) and records it. The sequence,
-- the records and their markers move once for all the script's steps, in finish(). quiet: the
-- step is logged but not published (see quietFor).
local function step(tags, stale, quiet)
  curN = curN + 1
  cur = fmt(curN)
  wHigh = cur
  local records = recorded[stale and 's' or 'h']
  for _, tag in ipairs(tags) do records[tag] = cur end
  if quiet then
    kinds[#kinds + 1] = '-'
    bodies[#bodies + 1] = '[]'
  else
    kinds[#kinds + 1] = stale and 's' or 'h'
    bodies[#bodies + 1] = json(tags)
  end
  return cur
end
-- Writes a hash's records of this script (or the key tags it carried) and its marker (at cur), at
-- most 500 fields per HSET.
local function record(key, records)
  local args = { M, cur }
  for tag, seq in pairs(records) do
    if #args == 1000 then
      redis.call('HSET', key, unpack(args))
      args = {}
    end
    args[#args + 1] = tag
    args[#args + 1] = seq
  end
  redis.call('HSET', key, unpack(args))
end
-- Ends a script that may have taken steps: writes the key tags its entries carry, the steps'
-- records, moves the sequence and both markers to the last one, and announces them all in one
-- message and one log entry (only logged when all are quiet). Returns how many subscribers that
-- message reached (0 when all were quiet, -1 when it took no step).
local function finish(epoch, origin)
  if next(carried) ~= nil then record(S .. 'k', carried) end
  if #kinds == 0 then return -1 end
  watermark()
  redis.call('SET', S .. 'seq', cur)
  record(S .. 'h', recorded.h)
  record(S .. 's', recorded.s)
  local text = table.concat(kinds)
  local after = published(fmt(curN - #kinds))
  -- The last step this message publishes, if any.
  local loud = nil
  for i = #kinds, 1, -1 do
    if kinds[i] ~= '-' then
      loud = fmt(curN - #kinds + i)
      break
    end
  end
  if loud then
    redis.call('SET', S .. 'pub', loud)
    lastPublished = loud
  end
  local listeners = announce(cur, epoch, text, '[' .. table.concat(bodies, ',') .. ']', origin, after, loud ~= nil)
  -- Steps all quiet: nobody was woken (0), whatever the fleet's size.
  return loud and listeners or 0
end
-- The start of an entry string (its first line).
local function startOf(entry)
  return tonumber(string.sub(entry, 1, string.find(entry, '\\n', 1, true) - 1))
end
-- An entry string's parts: start, tags JSON, tag starts JSON (may be ''), end of the header.
local function header(entry)
  local a = string.find(entry, '\\n', 1, true)
  local b = string.find(entry, '\\n', a + 1, true)
  local c = string.find(entry, '\\n', b + 1, true)
  return string.sub(entry, 1, a - 1), string.sub(entry, a + 1, b - 1), string.sub(entry, b + 1, c - 1), c
end
-- hard sequence of each tag (the floor where there is none), for validity checks
local function hardOf(tags, floor)
  local out = {}
  local hard = hmget(S .. 'h', tags)
  for i, tag in ipairs(tags) do out[tag] = tonumber(hard[i] or floor) end
  return out, hard
end
-- whether an entry as of start (or per-tag starts) survives the hard records
local function valid(tags, start, tagStarts, hard)
  for j, tag in ipairs(tags) do
    local own = tagStarts and tagStarts[j] or start
    if hard[tag] > own then return false end
  end
  return true
end
-- Plans a write of n entries: entry(i) gives entry i's tagsJson, tagStartsJson|'', start|'' and
-- keyTag|''. Superseding entries (no start, no asOf, a key tag) share one fresh step, recorded
-- for their key tags; every entry gets its start and whether its tags allow it. Returns the
-- sequence after the write, each entry's start (a number, and the string of a sequence this
-- script holds as one, else nil) and whether it may be stored.
local function plan(n, asOf, floor, entry)
  local keyTags, all, seen, lists, sure = {}, {}, {}, {}, {}
  for i = 0, n - 1 do
    local tags, tagStarts, start, keyTag = entry(i)
    if start == '' and asOf == '' and keyTag ~= '' then
      keyTags[#keyTags + 1] = keyTag
      -- As of the fresh step, the newest of all: no record can be above it, so a superseding
      -- entry without per-tag starts needs no check (nor its tags decoded, nor their records read).
      sure[i] = tagStarts == ''
    end
    if not sure[i] then
      lists[i] = cjson.decode(tags)
      for _, tag in ipairs(lists[i]) do
        if not seen[tag] then
          seen[tag] = true
          all[#all + 1] = tag
        end
      end
    end
  end
  local fresh, freshText = nil, nil
  if #keyTags > 0 then
    freshText = step(keyTags, false, quietFor(keyTags))
    fresh = curN
  end
  local hard = #all > 0 and hardOf(all, floor) or {}
  -- Records of this script's earlier steps are not written yet (finish()); they are the newest.
  for _, tag in ipairs(all) do
    local seq = recorded.h[tag]
    if seq then hard[tag] = tonumber(seq) end
  end
  local starts, texts, oks = {}, {}, {}
  for i = 0, n - 1 do
    local _, tagStarts, start, keyTag = entry(i)
    local s
    if start ~= '' then s = tonumber(start)
    elseif asOf ~= '' then s = tonumber(asOf)
    elseif keyTag ~= '' then s, texts[i] = fresh, freshText
    else s, texts[i] = curN, cur end
    starts[i] = s
    oks[i] = sure[i] or valid(lists[i], s, tagStarts ~= '' and cjson.decode(tagStarts) or nil, hard)
  end
  return cur, starts, texts, oks
end
-- Stores an entry string unless a live entry as of a later start is there already. newest: the
-- entry is as of a step this script just took, above every start handed out, so nothing stored can
-- be later and the entry is not read first. startText: start as a string, when at hand.
local function put(key, start, tags, tagStarts, payload, ttlMs, newest, startText)
  if not newest then
    local current = redis.call('GET', key)
    if current and startOf(current) > start then return false end
  end
  local value = (startText or fmt(start)) .. '\\n' .. tags .. '\\n' .. tagStarts .. '\\n' .. payload
  redis.call('SET', key, value, 'PX', ttlMs)
  return true
end
`

/**
 * For the read scripts, after `state()`: a watermark (`{P}:w`) that is missing or not current at
 * the sequence is set to the highest sequence a record may have (`highest`) — sound, since no
 * record is above it — so the reads after this one can prove their entries with one MGET again.
 */
export const MEND = `
local function mend(seq)
  if watermarkAt(seq) == nil then redis.call('SET', S .. 'w', highest(seq) .. ' ' .. seq) end
end
`

/**
 * read: ARGV = [prefix, key...]. The store runs it for the entries it could not prove valid with
 * one MGET and the watermark `{P}:w` (store.ts `readProven`), and mends the watermark. Returns
 * `[seq, epoch, floor, entries, tags, hard, soft]`:
 * one entry string per key (false when missing; only its header, up to the payload, when the
 * entry is already invalid — its tags still come, so the reader learns why); tags / hard / soft
 * list every tag of the found entries and its records.
 */
export const READ = `${PRELUDE}${MEND}
local seq, epoch, floor = state()
mend(seq)
local found, tags, seen = {}, {}, {}
for i = 2, #ARGV do
  local e = redis.call('GET', P .. ':e:' .. ARGV[i])
  if e then
    local start, tagsJson, tagStarts, cut = header(e)
    local list = cjson.decode(tagsJson)
    found[i - 1] = { e, list, tonumber(start), tagStarts, cut }
    for _, tag in ipairs(list) do
      if not seen[tag] then
        seen[tag] = true
        tags[#tags + 1] = tag
      end
    end
  end
end
local hard, rawHard = hardOf(tags, floor)
local entries = {}
for i = 1, #ARGV - 1 do
  local f = found[i]
  if f then
    local ok = valid(f[2], f[3], f[4] ~= '' and cjson.decode(f[4]) or nil, hard)
    entries[i] = ok and f[1] or string.sub(f[1], 1, f[5])
  else
    entries[i] = false
  end
end
return { seq, epoch, floor, entries, tags, rawHard, hmget(S .. 's', tags) }
`

/**
 * heartbeat: ARGV = [prefix, origin?]. Announces the current `{ seq, epoch }` on the bus without
 * a step (creating the state if it was lost, so subscribers learn the new epoch). Returns
 * `[seq, epoch]`.
 */
export const HEARTBEAT = `${PRELUDE}
local seq, epoch = state()
announce(seq, epoch, 'b', '[]', ARGV[2] or '', published(seq), true)
return { seq, epoch }
`

/** release a lease: KEYS[1] = the lease key; ARGV = [token]. Deletes it only if still ours. */
export const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`
