/**
 * The Lua scripts of the Redis store: each store call is one script, so one round trip.
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
 * - `{P}:bus` — the channel every sequence step is published on (see `bus.ts`), and
 *   `{P}:log` — a stream of the same messages for the last {@link LOG_WINDOW_MS} ms, from which a
 *   process that missed messages replays them.
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
local function fmt(n) return string.format('%.0f', n) end
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
  redis.call('DEL', S .. 'h', S .. 's')
  redis.call('MSET', S .. 'seq', seq, S .. 'epoch', epoch, S .. 'floor', seq)
  redis.call('HSET', S .. 'h', M, seq)
  redis.call('HSET', S .. 's', M, seq)
  return seq, epoch, seq
end
-- The current seq, epoch and floor, after checking that none of the state, records included, was
-- lost; a loss starts it over.
local function state()
  local st = redis.call('MGET', S .. 'seq', S .. 'epoch', S .. 'floor')
  if st[1] and st[2] and st[3]
    and redis.call('HGET', S .. 'h', M) == st[1]
    and redis.call('HGET', S .. 's', M) == st[1] then
    return st[1], st[2], st[3]
  end
  return restart(st[1])
end
-- Every step of the sequence is announced, so subscribers see contiguous sequences and notice a
-- gap. kind: 'h' hard, 's' soft (stale), 'b' heartbeat (no step, no tags).
local function announce(seq, epoch, kind, tagsJson)
  local message = seq .. '\\n' .. epoch .. '\\n' .. kind .. '\\n' .. tagsJson
  redis.call('PUBLISH', S .. 'bus', message)
  if kind ~= 'b' then
    local t = redis.call('TIME')
    local oldest = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - ${LOG_WINDOW_MS}
    redis.call('XADD', S .. 'log', 'MINID', '~', fmt(oldest), '*', 'm', message)
  end
end
local function hmget(key, fields)
  local out = {}
  for i = 1, #fields, 1000 do
    local part = redis.call('HMGET', key, unpack(fields, i, math.min(i + 999, #fields)))
    for j = 1, #part do out[#out + 1] = part[j] end
  end
  return out
end
local function hsetall(key, fields, value)
  for i = 1, #fields, 500 do
    local args = {}
    for j = i, math.min(i + 499, #fields) do
      args[#args + 1] = fields[j]
      args[#args + 1] = value
    end
    redis.call('HSET', key, unpack(args))
  end
end
-- Takes the next sequence for an invalidation of tags (a Lua list), records and announces it.
local function step(epoch, tags, stale)
  local s = fmt(redis.call('INCR', S .. 'seq'))
  hsetall(S .. (stale and 's' or 'h'), tags, s)
  redis.call('HSET', S .. 'h', M, s)
  redis.call('HSET', S .. 's', M, s)
  announce(s, epoch, stale and 's' or 'h', #tags > 0 and cjson.encode(tags) or '[]')
  return s
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
-- keyTag|''. Superseding entries (no start, no asOf, a key tag) share one fresh sequence, recorded
-- for their key tags; every entry gets its start and whether its tags allow it.
local function plan(n, asOf, seq, epoch, floor, entry)
  local keyTags, all, seen, lists = {}, {}, {}, {}
  for i = 0, n - 1 do
    local tags, _, start, keyTag = entry(i)
    if start == '' and asOf == '' and keyTag ~= '' then keyTags[#keyTags + 1] = keyTag end
    lists[i] = cjson.decode(tags)
    for _, tag in ipairs(lists[i]) do
      if not seen[tag] then
        seen[tag] = true
        all[#all + 1] = tag
      end
    end
  end
  local fresh = nil
  if #keyTags > 0 then
    seq = step(epoch, keyTags, false)
    fresh = tonumber(seq)
  end
  local hard = hardOf(all, floor)
  local starts, oks = {}, {}
  for i = 0, n - 1 do
    local _, tagStarts, start, keyTag = entry(i)
    local s
    if start ~= '' then s = tonumber(start)
    elseif asOf ~= '' then s = tonumber(asOf)
    elseif keyTag ~= '' then s = fresh
    else s = tonumber(seq) end
    starts[i] = s
    oks[i] = valid(lists[i], s, tagStarts ~= '' and cjson.decode(tagStarts) or nil, hard)
  end
  return seq, starts, oks
end
-- Stores an entry string unless a live entry as of a later start is there already.
local function put(key, start, tags, tagStarts, payload, ttlMs)
  local current = redis.call('GET', key)
  if current and startOf(current) > start then return false end
  local value = fmt(start) .. '\\n' .. tags .. '\\n' .. tagStarts .. '\\n' .. payload
  redis.call('SET', key, value, 'PX', ttlMs)
  return true
end
`

/**
 * read: ARGV = [prefix, key...]. Returns `[seq, epoch, floor, entries, tags, hard, soft]`:
 * one entry string per key (false when missing; only its header, up to the payload, when the
 * entry is already invalid — its tags still come, so the reader learns why); tags / hard / soft
 * list every tag of the found entries and its records.
 */
export const READ = `${PRELUDE}
local seq, epoch, floor = state()
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
 * write: ARGV = [prefix, asOf|'', then per entry: key, payload, tagsJson, tagStartsJson|'',
 * start|'', keyTag|'', ttlMs]. Returns `[seq, epoch, n, w1..wn, s1..sn]`.
 */
export const WRITE = `${PRELUDE}
local seq, epoch, floor = state()
local n = (#ARGV - 2) / 7
local function entry(i)
  local b = 3 + i * 7
  return ARGV[b + 2], ARGV[b + 3], ARGV[b + 4], ARGV[b + 5]
end
local now, starts, oks = plan(n, ARGV[2], seq, epoch, floor, entry)
local reply = { now, epoch, n }
for i = 0, n - 1 do
  local b = 3 + i * 7
  local ok = oks[i] and put(P .. ':e:' .. ARGV[b], starts[i], ARGV[b + 2], ARGV[b + 3], ARGV[b + 1], ARGV[b + 6])
  reply[#reply + 1] = ok and 1 or 0
end
for i = 0, n - 1 do reply[#reply + 1] = fmt(starts[i]) end
return reply
`

/** invalidate: ARGV = [prefix, '1' for soft | '0', tag...]. Returns `[seq, epoch]`. */
export const INVALIDATE = `${PRELUDE}
local _, epoch = state()
local tags = {}
for i = 3, #ARGV do tags[#tags + 1] = ARGV[i] end
return { step(epoch, tags, ARGV[2] == '1'), epoch }
`

/**
 * heartbeat: ARGV = [prefix]. Announces the current `{ seq, epoch }` on the bus without a step
 * (creating the state if it was lost, so subscribers learn the new epoch). Returns `[seq, epoch]`.
 */
export const HEARTBEAT = `${PRELUDE}
local seq, epoch = state()
announce(seq, epoch, 'b', '[]')
return { seq, epoch }
`

/**
 * Membership of the fleet (for acknowledged invalidations): `{P}:members` is a sorted set of
 * member → the server's time (ms) of its last `JOIN`.
 *
 * join: KEYS = [`{P}:members`]; ARGV = [member, forgetAfterMs]. Refreshes the member, forgets
 * members silent for longer than `forgetAfterMs`.
 */
export const JOIN = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%.0f', now - tonumber(ARGV[2])))
return 1
`

/**
 * ack request: KEYS = [`{P}:members`]; ARGV = [channel, requester, seq, epoch, liveWithinMs].
 * Publishes the request on `channel` (`{P}:ackreq`) and returns, at that same moment, the members
 * heard from within `liveWithinMs`.
 */
export const ACK_REQUEST = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('PUBLISH', ARGV[1], ARGV[2] .. ' ' .. ARGV[3] .. ' ' .. ARGV[4])
return redis.call('ZRANGEBYSCORE', KEYS[1], string.format('%.0f', now - tonumber(ARGV[5])), '+inf')
`

/** release a lease: KEYS[1] = the lease key; ARGV = [token]. Deletes it only if still ours. */
export const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`
