/**
 * The scripts of a Redis bus's fleet: membership and acknowledged invalidations
 * (`bus-connection.ts`). Keys as in `keys.ts`, all in the `{P}` hash slot (KEYS[1] routes the call
 * on a cluster):
 *
 * - `{P}:members` — a sorted set `member → the server's time (ms) of its last join`, and the
 *   mark {@link RECORDS_LOST} `→ when the records were found lost` while the store's state was
 *   not (an eviction of this one key): until the members have all joined again, a request cannot
 *   know whom to wait for.
 * - `{P}:acks:<requester>:<seq>` — a list: an empty first item, then the members that answered
 *   the request for step `seq` (a member appends itself once it applied the step, with `RPUSHX`:
 *   one command, no script, and nothing once the request is over). The member whose append
 *   reaches the number asked tells the requester on its channel `{P}:ack:<requester>`. Expires
 *   once the requester stopped waiting.
 */

/** The mark that the records were lost (marks start with `~`: no member is named so). */
export const RECORDS_LOST = '~records-lost'
/**
 * The mark the last member to leave with `close()` keeps, so that the next one to join finds
 * records that were emptied, not lost.
 */
export const RECORDS_LEFT = '~records-left'

/** `now` in ms by the server's clock (scripts replicate their effects, so TIME is allowed). */
export const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`

/**
 * join: KEYS = [`{P}:members`, `{P}:seq`]; ARGV = [member, forgetAfterMs]. Refreshes the member,
 * forgets members silent for longer than `forgetAfterMs`, and returns `[now, seq]`: the time of
 * the join by the server's clock (the member's score) and the store's sequence at that moment
 * (nil when there is none yet): every step a request taken after the join could wait for is
 * above it. A member that finds itself alone in records that were gone while the state
 * was not marks them lost ({@link RECORDS_LOST}): the others are still to join again.
 */
export const JOIN = `${NOW}
if redis.call('ZADD', KEYS[1], now, ARGV[1]) == 1 and redis.call('ZCARD', KEYS[1]) == 1
  and redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('ZADD', KEYS[1], now, '${RECORDS_LOST}')
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%.0f', now - tonumber(ARGV[2])))
return { now, redis.call('GET', KEYS[2]) }
`

/**
 * leave: KEYS = [`{P}:members`]; ARGV = [member, nowMs]. Removes the member; the last one to leave
 * keeps the mark {@link RECORDS_LEFT}, so the next one to join finds records emptied, not lost. A
 * member whose record was gone already leaves nothing (records lost stay lost).
 */
export const LEAVE = `
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  redis.call('ZADD', KEYS[1], ARGV[2], '${RECORDS_LEFT}')
end
return 1
`

/**
 * The Lua function `askAcks(S, requester, seq, epoch, listedWithinMs, keepMs, expectSelf)`: reads
 * the members that joined within `listedWithinMs` (the requester left out), starts the list of
 * answers (`{P}:acks:<requester>:<seq>`, kept `keepMs`) and publishes the request on `{P}:ackreq`
 * as `requester seq epoch asked since` — unless nobody is to be asked. `since` is the listing's
 * bound: a member whose last join is older was not asked, and does not answer (an answer counts
 * towards `asked` whoever sends it). `S` is `'{P}:'`.
 *
 * Returns `{ sure, ...members asked }`: `sure` is `'0'` when the records cannot say who listens —
 * they were found lost within `listedWithinMs` ({@link RECORDS_LOST}), or the requester's own
 * record is gone although it should be there (`expectSelf` is `'1'`: it joined lately), which
 * marks them lost now — and `'1'` otherwise. Marks (names starting with `~`) are nobody.
 *
 * The steps script runs it for a request sent with its invalidation (steps-script.ts, `'a'`),
 * after the step's message: the fleet hears both at once. {@link ACK_REQUEST} runs it alone.
 */
export const ASK_ACKS = `
local function askAcks(S, requester, seq, epoch, listedWithinMs, keepMs, expectSelf)
  ${NOW}
  local members = S .. 'members'
  local since = string.format('%.0f', now - tonumber(listedWithinMs))
  local listed = redis.call('ZRANGEBYSCORE', members, since, '+inf')
  local asked = { '1' }
  local self = false
  for _, member in ipairs(listed) do
    if member == requester then self = true
    elseif member == '${RECORDS_LOST}' then asked[1] = '0'
    elseif string.byte(member, 1) ~= 126 then asked[#asked + 1] = member end
  end
  if not self and expectSelf == '1' and not redis.call('ZSCORE', members, requester) then
    redis.call('ZADD', members, now, '${RECORDS_LOST}')
    asked[1] = '0'
  end
  if #asked == 1 then return asked end
  local answers = S .. 'acks:' .. requester .. ':' .. seq
  redis.call('DEL', answers)
  redis.call('RPUSH', answers, '')
  redis.call('PEXPIRE', answers, keepMs)
  redis.call('PUBLISH', S .. 'ackreq', requester .. ' ' .. seq .. ' ' .. epoch .. ' ' .. (#asked - 1) .. ' ' .. since)
  return asked
end
`

/**
 * ack request: KEYS = [`{P}:members`]; ARGV = [prefix, requester, seq, epoch, listedWithinMs,
 * keepMs, expectSelf]. {@link ASK_ACKS} alone, for a step already recorded: returns `[sure,
 * ...members asked]`.
 */
export const ACK_REQUEST = `${ASK_ACKS}
return askAcks('{' .. ARGV[1] .. '}:', ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7])
`
