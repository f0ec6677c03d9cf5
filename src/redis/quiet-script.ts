/**
 * The Lua of quiet steps, part of the scripts' PRELUDE (`scripts.ts`, after `hmget` and before
 * `step`): a superseding step (a `set`'s, a `delete`'s) none of whose key tags a stored entry
 * ever carried is taken, recorded and logged, but not published (docs/invalidation.md, "Quiet
 * steps"). `{P}:k` holds the key tags stored entries carry (`carry`, written in `finish`),
 * `{P}:pub` the last step published.
 */
export const QUIET = `
-- The last step published ({P}:pub, false when none was since the state was created), read once.
local lastPublished = nil
local function publishedStep()
  if lastPublished == nil then lastPublished = redis.call('GET', S .. 'pub') end
  return lastPublished
end
-- The last step published, or when there is none the given sequence: the state's first (no step
-- of it can be quiet before one is published), or a claim that fewer steps were quiet than were,
-- which a subscriber takes for a gap and replays (never the other way round).
local function published(orSeq)
  return publishedStep() or orSeq
end
-- The key tags ('@key:...') carried by the entries this script stored, written to {P}:k in
-- finish() (as the records are, with its marker): tag -> the sequence when stored.
local carried = {}
-- Whether keyTag is '@key:' .. key (compared in place: a concatenation is a new string, which
-- Redis's Lua hashes in full).
local function ownKeyTag(keyTag, key)
  return #keyTag == #key + 5 and string.find(keyTag, '@key:', 1, true) == 1
    and string.find(keyTag, key, 6, true) == 6
end
-- Notes the key tags in a tags JSON list (and keyTag, '' for none) as carried by a stored entry.
local function carry(tagsJson, keyTag)
  if keyTag ~= '' then carried[keyTag] = cur end
  local at = string.find(tagsJson, '@key:', 1, true)
  if not at then return end
  -- Most often the only key tag listed is keyTag itself: '@key:' occurs once, where keyTag and
  -- then the end of a JSON string are. Any key tag listed starts with an occurrence, so none but
  -- keyTag can be: nothing to decode nor capture.
  if keyTag ~= '' and string.find(tagsJson, keyTag, at, true) == at
    and string.byte(tagsJson, at + #keyTag) == 34
    and not string.find(tagsJson, '@key:', at + 5, true) then
    return
  end
  if string.find(tagsJson, '\\\\', 1, true) then
    for _, tag in ipairs(cjson.decode(tagsJson)) do
      if string.sub(tag, 1, 5) == '@key:' then carried[tag] = cur end
    end
  else
    for tag in string.gmatch(tagsJson, '"(@key:[^"]*)"') do carried[tag] = cur end
  end
end
-- Whether every tag is a key tag ('@key:...'): only those are marked when carried.
local function allKeyTags(tags)
  for _, tag in ipairs(tags) do
    if string.find(tag, '@key:', 1, true) ~= 1 then return false end
  end
  return true
end
-- Whether a superseding step (a set's, a delete's) of these key tags may be quiet: no entry ever
-- stored (as far back as {P}:k keeps) carried any of them, so no entry in the store, nor any copy
-- of one in a process, is built on what the step supersedes, and nobody needs to hear of it. A
-- load of the key running meanwhile is refused by its write's check, as ever.
local function quietFor(keyTags)
  -- A state that published nothing yet (just created, or lost and created again): the fleet
  -- must hear of it from this step, and may hold entries of the state before.
  if not publishedStep() then return false end
  for _, tag in ipairs(keyTags) do
    if carried[tag] then return false end
  end
  if #keyTags == 1 then return redis.call('HEXISTS', S .. 'k', keyTags[1]) == 0 end
  local marks = hmget(S .. 'k', keyTags)
  for i = 1, #keyTags do
    if marks[i] then return false end
  end
  return true
end
`
