/**
 * The scripts of a Redis bus's fleet: membership and acknowledged invalidations (`bus.ts`). Keys
 * as in `keys.ts`, all in the `{P}` hash slot (KEYS[1] routes the call on a cluster):
 *
 * - `{P}:members` — a sorted set `member → the server's time (ms) of its last join`.
 * - `{P}:acks:<requester>:<seq>` — the members a request for step `seq` still waits for; each
 *   removes itself once it applied the step, and the last one tells the requester on its channel
 *   `{P}:ack:<requester>`. Expires once the requester stopped waiting.
 */

/** `now` in ms by the server's clock (scripts replicate their effects, so TIME is allowed). */
const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`

/**
 * join: KEYS = [`{P}:members`, `{P}:seq`]; ARGV = [member, forgetAfterMs]. Refreshes the member,
 * forgets members silent for longer than `forgetAfterMs`, and returns the store's sequence at that
 * moment (`false` when there is none yet): every step a request taken after the join could wait
 * for is above it.
 */
export const JOIN = `${NOW}
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%.0f', now - tonumber(ARGV[2])))
return redis.call('GET', KEYS[2])
`

/**
 * ack request: KEYS = [`{P}:members`]; ARGV = [prefix, requester, seq, epoch, listedWithinMs,
 * keepMs]. Reads the members that joined within `listedWithinMs` (the requester left out), records
 * them as the ones the request waits for (`{P}:acks:<requester>:<seq>`, kept `keepMs`) and
 * publishes the request on `{P}:ackreq` as `requester seq epoch` — unless nobody is to be asked.
 * Returns the members asked.
 */
export const ACK_REQUEST = `${NOW}
local S = '{' .. ARGV[1] .. '}:'
local listed = redis.call('ZRANGEBYSCORE', KEYS[1], string.format('%.0f', now - tonumber(ARGV[5])), '+inf')
local asked = {}
for _, member in ipairs(listed) do
  if member ~= ARGV[2] then asked[#asked + 1] = member end
end
if #asked == 0 then return asked end
local waits = S .. 'acks:' .. ARGV[2] .. ':' .. ARGV[3]
redis.call('DEL', waits)
for i = 1, #asked, 1000 do
  redis.call('SADD', waits, unpack(asked, i, math.min(i + 999, #asked)))
end
redis.call('PEXPIRE', waits, ARGV[6])
redis.call('PUBLISH', S .. 'ackreq', ARGV[2] .. ' ' .. ARGV[3] .. ' ' .. ARGV[4])
return asked
`

/**
 * ack answers, one call for every request a member answers in a tick: KEYS = [`{P}:members`];
 * ARGV = [prefix, member, requester1, seq1, requester2, seq2, ...]. Removes the member from each
 * request's waits; the member that empties one publishes `seq` on `{P}:ack:<requester>`. An
 * answer to a request that is over (its waits expired) or that did not ask this member changes
 * nothing.
 */
export const ACK_ANSWER = `
local S = '{' .. ARGV[1] .. '}:'
for i = 3, #ARGV - 1, 2 do
  local waits = S .. 'acks:' .. ARGV[i] .. ':' .. ARGV[i + 1]
  if redis.call('SREM', waits, ARGV[2]) == 1 and redis.call('SCARD', waits) == 0 then
    redis.call('PUBLISH', S .. 'ack:' .. ARGV[i], ARGV[i + 1])
  end
end
return 1
`
