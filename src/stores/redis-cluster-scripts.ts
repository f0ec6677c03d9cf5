/**
 * Scripts of the Redis Cluster store. `{P}` keys (sequence, epoch, floor, tag records) share one
 * hash slot and are handled by {@link STATE} / {@link CHECK}; entries are spread over the cluster
 * by key and written by {@link PUT_ENTRY} in their own slot. Each script names a key of the slot
 * it works in as KEYS[1], so the cluster client routes it.
 */

/** Same prelude as the standalone scripts (see redis-scripts.ts). */
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
`

/**
 * KEYS[1] = `{P}:seq`; ARGV = [prefix, tag...]. Returns `[seq, epoch, tags]` with tags a flat
 * list `tag, hard, soft` (missing records read as the floor).
 */
export const STATE = `${PRELUDE}
local seq, epoch, floor = state()
local tags = {}
for i = 2, #ARGV do
  local r = redis.call('HMGET', S .. 't:' .. ARGV[i], 'h', 's')
  tags[#tags + 1] = ARGV[i]
  tags[#tags + 1] = fmt(tonumber(r[1] or floor))
  tags[#tags + 1] = fmt(tonumber(r[2] or floor))
end
return { fmt(seq), epoch, tags }
`

/**
 * The `{P}` half of a write. KEYS[1] = `{P}:seq`; ARGV = [prefix, asOf|'', then per entry:
 * tagsJson, tagStartsJson|'', start|'', keyTag|'']. Takes a fresh sequence for superseding
 * entries (recording their key tags), resolves each entry's start and checks its tags.
 * Returns `[seq, epoch, ok..., starts...]`.
 */
export const CHECK = `${PRELUDE}
local seq, epoch, floor = state()
local asOf = ARGV[2]
local n = (#ARGV - 2) / 4
local fresh = nil
for i = 0, n - 1 do
  local b = 3 + i * 4
  if ARGV[b + 2] == '' and asOf == '' and ARGV[b + 3] ~= '' then
    if not fresh then fresh = redis.call('INCR', S .. 'seq') end
    redis.call('HSET', S .. 't:' .. ARGV[b + 3], 'h', fmt(fresh))
  end
end
local oks, starts = {}, {}
for i = 0, n - 1 do
  local b = 3 + i * 4
  local start
  if ARGV[b + 2] ~= '' then start = tonumber(ARGV[b + 2])
  elseif asOf ~= '' then start = tonumber(asOf)
  elseif ARGV[b + 3] ~= '' then start = fresh
  else start = seq end
  local ok = true
  local tagStarts = ARGV[b + 1] ~= '' and cjson.decode(ARGV[b + 1]) or nil
  for j, tag in ipairs(cjson.decode(ARGV[b])) do
    local own = tagStarts and tagStarts[j] or start
    local h = redis.call('HGET', S .. 't:' .. tag, 'h')
    if (h and tonumber(h) > own) or (not h and own < floor) then ok = false break end
  end
  oks[#oks + 1] = ok and 1 or 0
  starts[#starts + 1] = fmt(start)
end
return { fmt(tonumber(redis.call('GET', S .. 'seq'))), epoch, oks, starts }
`

/**
 * The entry half of a write, in the entry's own slot. KEYS[1] = the entry key; ARGV = [payload,
 * start, tagsJson, tagStartsJson|'', ttlMs]. Refuses to replace a live entry as of a later
 * start. Returns 1 when stored.
 */
export const PUT_ENTRY = `
local current = redis.call('HGET', KEYS[1], 's')
if current and tonumber(current) > tonumber(ARGV[2]) then return 0 end
redis.call('DEL', KEYS[1])
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[1], 'p', ARGV[1], 's', ARGV[2], 't', ARGV[3], 'u', ARGV[4])
else
  redis.call('HSET', KEYS[1], 'p', ARGV[1], 's', ARGV[2], 't', ARGV[3])
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
`
