import { ASK_ACKS } from './fleet-scripts.js'
import { PRELUDE } from './scripts.js'

/**
 * steps: the writes and invalidations one process sent in the same tick, in order, as one atomic
 * call. ARGV = [prefix, origin, then per call one of:
 * - `'i'` (hard) or `'s'` (soft) invalidation: n, tag1..tagn — one step; `'d'`: a hard one of
 *   the key tags of keys removed (a `delete`), quiet when none of them was carried (`quietFor`);
 * - `'w'` write: asOf|'', n, then per entry key, payload, tagsJson, tagStartsJson|'', start|'',
 *   keyTag|'', ttlMs — one step when some entry supersedes, shared by those entries;
 * - `'c'` check (the `{P}` half of a cluster write, entries written after in their own slots):
 *   asOf|'', n, then per entry tagsJson, tagStartsJson|'', start|'', keyTag|'';
 * - `'a'` after an invalidation: requester, listedWithinMs, keepMs, expectSelf — ask the fleet
 *   to acknowledge its step (fleet-scripts.ts `askAcks`) once the run's message is out: the
 *   request follows its step on the same subscription, and the fleet wakes once for both. Adds
 *   `sure, ...members asked` to that invalidation's reply.
 * ]
 * Each call sees what the calls before it did, as if they had been sent one by one; the steps they
 * take are consecutive, and go out as one bus message and one log entry (`finish`; a run whose
 * steps are all quiet is only logged). Every entry stored or allowed marks the key tags it
 * carries (`carry`). Returns `[epoch, listeners, reply1, reply2, ...]` (listeners: how many
 * subscribers the run's message reached: 0 when its steps were all quiet, -1 when it took none):
 * an invalidation's `[seq]` (or `[seq, sure, ...members asked]`), a write's or check's
 * `[seq, n, ok1..okn, start1..startn]` (ok: stored, or for a check allowed), `seq` being the
 * sequence right after that call — or for the common `set` (one superseding entry) just the
 * step it took, as a string: stored, as of that step.
 */
export const STEPS = `${PRELUDE}${ASK_ACKS}
local _, epoch, floor = state()
local reply = { epoch, -1 }
-- Acknowledgement requests: the reply they add to, the step they ask for, where their ARGV are.
local asks = {}
local a = 3
while a <= #ARGV do
  local op = ARGV[a]
  if op == 'a' then
    asks[#asks + 1] = { reply[#reply], cur, a }
    a = a + 5
  elseif op == 'i' or op == 's' or op == 'd' then
    local n = tonumber(ARGV[a + 1])
    local tags = {}
    for i = 1, n do tags[i] = ARGV[a + 1 + i] end
    local quiet = op == 'd' and allKeyTags(tags) and quietFor(tags)
    reply[#reply + 1] = { step(tags, op == 's', quiet) }
    a = a + 2 + n
  elseif op == 'w' and ARGV[a + 2] == '1' and ARGV[a + 1] == '' and ARGV[a + 6] == ''
      and ARGV[a + 7] == '' and ARGV[a + 8] ~= '' then
    -- The common \`set\`: one superseding entry. As below (plan, put, replaced) without their
    -- tables: it takes a fresh step for its key tag, is as of it (the newest, so nothing is read
    -- or checked first) and is stored; the watermark need not cover it when the key tag names its
    -- own key.
    local b = a + 3
    local key, keyTag, high = ARGV[b], ARGV[b + 5], wHigh
    local keyTags = { keyTag }
    local text = step(keyTags, false, quietFor(keyTags))
    redis.call('SET', P .. ':e:' .. key, text .. '\\n' .. ARGV[b + 2] .. '\\n\\n' .. ARGV[b + 1], 'PX', ARGV[b + 6])
    carry(ARGV[b + 2], keyTag)
    -- Its reply is the step alone (stored, as of it): writeReply reads a string so.
    reply[#reply + 1] = text
    if ownKeyTag(keyTag, key) then wHigh = high end
    a = b + 7
  else
    local asOf, n, base = ARGV[a + 1], tonumber(ARGV[a + 2]), a + 3
    local write = op == 'w'
    local width = write and 7 or 4
    local function entry(i)
      local b = base + i * width + (write and 2 or 0)
      return ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3]
    end
    local high, before = wHigh, cur
    local now, starts, texts, oks = plan(n, asOf, floor, entry)
    local out = { now, n }
    for i = 0, n - 1 do
      local ok = oks[i]
      if ok and write then
        local b = base + i * width
        local newest = ARGV[b + 4] == '' and asOf == '' and ARGV[b + 5] ~= ''
        ok = put(P .. ':e:' .. ARGV[b], starts[i], ARGV[b + 2], ARGV[b + 3], ARGV[b + 1], ARGV[b + 6], newest, texts[i])
      end
      if ok then
        -- Stored (or, for a check, allowed): what the entry carries is known from now on.
        local tags, _, _, keyTag = entry(i)
        carry(tags, keyTag)
      end
      out[#out + 1] = ok and 1 or 0
    end
    for i = 0, n - 1 do out[#out + 1] = texts[i] or fmt(starts[i]) end
    reply[#reply + 1] = out
    -- The watermark (see watermark()) need not cover a superseding step that replaced every entry
    -- it superseded under the key its key tag names: nothing else can carry a record it made but
    -- entries that name that key tag, which a read proves otherwise.
    if write and now ~= before and replaced(n, asOf, base, out) then wHigh = high end
    a = base + n * width
  end
end
reply[2] = finish(epoch, ARGV[2])
for _, ask in ipairs(asks) do
  local out, b = ask[1], ask[3]
  for _, v in ipairs(askAcks(S, ARGV[b + 1], ask[2], epoch, ARGV[b + 2], ARGV[b + 3], ARGV[b + 4])) do
    out[#out + 1] = v
  end
end
return reply
`
