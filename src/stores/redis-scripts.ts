/**
 * The Lua scripts of the Redis store: each store call is one script, so one round trip.
 *
 * Keys under prefix `P` (the `{P}` ones share one hash slot; none has a ttl):
 * - `{P}:state` — hash `{ seq, epoch, floor }`: the sequence, its epoch, and the lowest sequence
 *   the records vouch for. Created together, seeded from `TIME` in microseconds, so a Redis that
 *   lost its state starts above every sequence it handed out before, with a new epoch.
 * - `{P}:h`, `{P}:s` — hashes `tag → sequence` of the last hard / soft invalidation of each tag;
 *   a read fetches the records of all its tags with one `HMGET` each.
 * - `P:e:<key>` — an entry: hash `{ p: payload, s: start, t: tags (JSON), u: tag starts (JSON) }`,
 *   always with a ttl, outside the `{P}` slot so a cluster spreads entries.
 *
 * Sequences stay below 2^53, exact in Lua's doubles. Values read from Redis travel back as the
 * strings they are; only new sequences are formatted (with `%.0f`: `tostring` would print them
 * in exponent form).
 */

/** Shared by the standalone and cluster scripts. */
export const PRELUDE = `
local P = ARGV[1]
local S = '{' .. P .. '}:'
local function fmt(n) return string.format('%.0f', n) end
local function state()
  local st = redis.call('HMGET', S .. 'state', 'seq', 'epoch', 'floor')
  if st[1] and st[2] and st[3] then return st[1], st[2], st[3] end
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local seq = fmt(math.max(now, tonumber(st[1] or '0') + 1))
  local epoch = t[1] .. '.' .. t[2]
  redis.call('HSET', S .. 'state', 'seq', seq, 'epoch', epoch, 'floor', seq)
  return seq, epoch, seq
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
local function plan(n, asOf, seq, floor, entry)
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
    fresh = redis.call('HINCRBY', S .. 'state', 'seq', 1)
    hsetall(S .. 'h', keyTags, fmt(fresh))
    seq = fmt(fresh)
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
`

/**
 * read: ARGV = [prefix, key...]. Returns `[seq, epoch, floor, entries, tags, hard, soft]`:
 * entries is flat, 4 slots per key `payload, start, tagsJson, tagStartsJson` (all false when
 * missing; payload false when the entry is already invalid — its tags still come, so the
 * reader learns why); tags / hard / soft list every tag of the found entries and its records.
 */
export const READ = `${PRELUDE}
local seq, epoch, floor = state()
local found, tags, seen = {}, {}, {}
for i = 2, #ARGV do
  local e = redis.call('HMGET', P .. ':e:' .. ARGV[i], 'p', 's', 't', 'u')
  if e[1] then
    local list = cjson.decode(e[3])
    found[i - 1] = { e, list }
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
    local e = f[1]
    local ok = valid(f[2], tonumber(e[2]), e[4] and cjson.decode(e[4]) or nil, hard)
    entries[#entries + 1] = ok and e[1] or false
    entries[#entries + 1] = e[2]
    entries[#entries + 1] = e[3]
    entries[#entries + 1] = e[4] or false
  else
    for _ = 1, 4 do entries[#entries + 1] = false end
  end
end
return { seq, epoch, floor, entries, tags, rawHard, hmget(S .. 's', tags) }
`

/**
 * write: ARGV = [prefix, asOf|'', then per entry: key, payload, tagsJson, tagStartsJson|'',
 * start|'', keyTag|'', ttlMs]. Returns `[seq, epoch, written..., starts...]` flattened as
 * `[seq, epoch, n, w1..wn, s1..sn]`.
 */
export const WRITE = `${PRELUDE}
local seq, epoch, floor = state()
local n = (#ARGV - 2) / 7
local function entry(i)
  local b = 3 + i * 7
  return ARGV[b + 2], ARGV[b + 3], ARGV[b + 4], ARGV[b + 5]
end
local now, starts, oks = plan(n, ARGV[2], seq, floor, entry)
local reply = { now, epoch, n }
for i = 0, n - 1 do
  local b = 3 + i * 7
  local key = P .. ':e:' .. ARGV[b]
  local current = redis.call('HGET', key, 's')
  local ok = oks[i] and not (current and tonumber(current) > starts[i])
  if ok then
    redis.call('DEL', key)
    if ARGV[b + 3] ~= '' then
      redis.call('HSET', key, 'p', ARGV[b + 1], 's', fmt(starts[i]), 't', ARGV[b + 2], 'u', ARGV[b + 3])
    else
      redis.call('HSET', key, 'p', ARGV[b + 1], 's', fmt(starts[i]), 't', ARGV[b + 2])
    end
    redis.call('PEXPIRE', key, ARGV[b + 6])
  end
  reply[#reply + 1] = ok and 1 or 0
end
for i = 0, n - 1 do reply[#reply + 1] = fmt(starts[i]) end
return reply
`

/** invalidate: ARGV = [prefix, '1' for soft | '0', tag...]. Returns `[seq, epoch]`. */
export const INVALIDATE = `${PRELUDE}
local _, epoch = state()
local s = fmt(redis.call('HINCRBY', S .. 'state', 'seq', 1))
local tags = {}
for i = 3, #ARGV do tags[#tags + 1] = ARGV[i] end
hsetall(S .. (ARGV[2] == '1' and 's' or 'h'), tags, s)
return { s, epoch }
`
