/**
 * The Lua scripts of the Redis store: each store call is one script, so one round trip.
 *
 * Keys under prefix `P`:
 * - `{P}:seq`, `{P}:epoch`, `{P}:floor` — the sequence, its epoch, and the lowest sequence the
 *   records can vouch for. No ttl. Created together, seeded from `TIME` in microseconds, so a
 *   Redis that lost its state starts above every sequence it handed out before, with a new epoch.
 * - `{P}:t:<tag>` — a hash `{ h, s }`: the highest hard / soft invalidation of the tag. No ttl.
 * - `P:e:<key>` — an entry: a hash `{ p: payload, s: start, t: tags (JSON), u: tag starts (JSON) }`,
 *   always with a ttl. Outside the `{P}` hash slot, so a cluster spreads entries.
 *
 * Sequence numbers stay below 2^53, so Lua's doubles hold them exactly; they are written with
 * `%.0f` (Lua's `tostring` would print them in exponent form).
 */

/** Shared prelude: `state()` creates the counters when missing and returns seq, epoch, floor. */
const PRELUDE = `
local P = ARGV[1]
local S = '{' .. P .. '}:'
local function fmt(n) return string.format('%.0f', n) end
local function state()
  local seq = redis.call('GET', S .. 'seq')
  local epoch = redis.call('GET', S .. 'epoch')
  if not seq or not epoch then
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
    local start = math.max(now, tonumber(seq or '0') + 1)
    seq = fmt(start)
    epoch = t[1] .. '.' .. t[2]
    redis.call('SET', S .. 'seq', seq)
    redis.call('SET', S .. 'epoch', epoch)
    redis.call('SET', S .. 'floor', seq)
  end
  return tonumber(seq), epoch, tonumber(redis.call('GET', S .. 'floor') or seq)
end
local function tagseq(tag, floor)
  local r = redis.call('HMGET', S .. 't:' .. tag, 'h', 's')
  return tonumber(r[1] or floor), tonumber(r[2] or floor)
end
`

/**
 * read: ARGV = [prefix, key...]. Returns `[seq, epoch, entries, tags]` where entries holds
 * `[payload, start, tagsJson, tagStartsJson]` or `false` per key, and tags is a flat list
 * `tag, hard, soft, ...` for every tag of every returned entry.
 */
export const READ = `${PRELUDE}
local seq, epoch, floor = state()
local entries, tags, seen = {}, {}, {}
for i = 2, #ARGV do
  local e = redis.call('HMGET', P .. ':e:' .. ARGV[i], 'p', 's', 't', 'u')
  if e[1] then
    entries[#entries + 1] = { e[1], e[2], e[3], e[4] or '' }
    for _, tag in ipairs(cjson.decode(e[3])) do
      if not seen[tag] then
        seen[tag] = true
        local h, s = tagseq(tag, floor)
        tags[#tags + 1] = tag
        tags[#tags + 1] = fmt(h)
        tags[#tags + 1] = fmt(s)
      end
    end
  else
    entries[#entries + 1] = false
  end
end
return { fmt(seq), epoch, entries, tags }
`

/**
 * write: ARGV = [prefix, asOf|'', then per entry: key, payload, tagsJson, tagStartsJson|'',
 * start|'', keyTag|'', ttlMs]. Returns `[seq, epoch, written..., starts...]`.
 */
export const WRITE = `${PRELUDE}
local seq, epoch, floor = state()
local asOf = ARGV[2]
local n = (#ARGV - 2) / 7
local fresh = nil
for i = 0, n - 1 do
  local b = 3 + i * 7
  if ARGV[b + 4] == '' and asOf == '' and ARGV[b + 5] ~= '' then
    if not fresh then fresh = redis.call('INCR', S .. 'seq') end
    redis.call('HSET', S .. 't:' .. ARGV[b + 5], 'h', fmt(fresh))
  end
end
local written, starts = {}, {}
for i = 0, n - 1 do
  local b = 3 + i * 7
  local start
  if ARGV[b + 4] ~= '' then start = tonumber(ARGV[b + 4])
  elseif asOf ~= '' then start = tonumber(asOf)
  elseif ARGV[b + 5] ~= '' then start = fresh
  else start = seq end
  local key = P .. ':e:' .. ARGV[b]
  local ok = true
  local current = redis.call('HGET', key, 's')
  if current and tonumber(current) > start then ok = false end
  if ok then
    local tagStarts = ARGV[b + 3] ~= '' and cjson.decode(ARGV[b + 3]) or nil
    for j, tag in ipairs(cjson.decode(ARGV[b + 2])) do
      local own = tagStarts and tagStarts[j] or start
      local h = redis.call('HGET', S .. 't:' .. tag, 'h')
      if (h and tonumber(h) > own) or (not h and own < floor) then ok = false break end
    end
  end
  if ok then
    redis.call('DEL', key)
    if ARGV[b + 3] ~= '' then
      redis.call('HSET', key, 'p', ARGV[b + 1], 's', fmt(start), 't', ARGV[b + 2], 'u', ARGV[b + 3])
    else
      redis.call('HSET', key, 'p', ARGV[b + 1], 's', fmt(start), 't', ARGV[b + 2])
    end
    redis.call('PEXPIRE', key, ARGV[b + 6])
  end
  written[#written + 1] = ok and 1 or 0
  starts[#starts + 1] = fmt(start)
end
return { fmt(tonumber(redis.call('GET', S .. 'seq'))), epoch, written, starts }
`

/** invalidate: ARGV = [prefix, '1' for soft | '0', tag...]. Returns `[seq, epoch]`. */
export const INVALIDATE = `${PRELUDE}
local _, epoch = state()
local s = redis.call('INCR', S .. 'seq')
local field = ARGV[2] == '1' and 's' or 'h'
for i = 3, #ARGV do
  redis.call('HSET', S .. 't:' .. ARGV[i], field, fmt(s))
end
return { fmt(s), epoch }
`
