import { MEND, PRELUDE } from './scripts.js'

/**
 * Scripts of the Redis Cluster store (key layout as in scripts.ts and keys.ts). `{P}` keys — state and
 * tag records — share one hash slot and are handled by {@link STATE} and the store's STEPS (its
 * `'c'` check and invalidations, KEYS[1] = `{P}:seq`); entries are
 * spread over the cluster by key and written by {@link PUT_ENTRY} in their own slot. Each script
 * names a key of the slot it works in as KEYS[1], so the cluster client routes it.
 */

/**
 * KEYS[1] = `{P}:seq`; ARGV = [prefix, tag...]. Returns `[seq, epoch, floor, tags, hard, soft]`.
 */
export const STATE = `${PRELUDE}${MEND}
local seq, epoch, floor = state()
mend(seq)
local tags = {}
for i = 2, #ARGV do tags[#tags + 1] = ARGV[i] end
return { seq, epoch, floor, tags, hmget(S .. 'h', tags), hmget(S .. 's', tags) }
`

/**
 * The entry half of a write, in the entry's own slot. KEYS[1] = the entry key; ARGV = [prefix,
 * payload, start, tagsJson, tagStartsJson|'', ttlMs]. Refuses to replace a live entry as of a
 * later start. Returns 1 when stored.
 */
export const PUT_ENTRY = `${PRELUDE}
return put(KEYS[1], tonumber(ARGV[3]), ARGV[4], ARGV[5], ARGV[2], ARGV[6]) and 1 or 0
`
