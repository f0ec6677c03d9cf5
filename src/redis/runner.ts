import { createHash, randomBytes } from 'node:crypto'

import type { Cluster, Redis } from 'ioredis'

import { invalidOption } from '../errors.js'
import { type Logger, REDIS_EVICTION_POLICY } from '../warnings.js'
import { entryPrefix, leaseKey } from './keys.js'
import { RELEASE } from './scripts.js'

/** A Lua script and its SHA-1, for EVALSHA. */
export interface Script {
  source: string
  sha: string
}

export const script = (source: string): Script => ({
  source,
  sha: createHash('sha1').update(source).digest('hex'),
})

/**
 * Runs `script` in one round trip: EVALSHA, and EVAL once when the server does not know the
 * script yet (a new or restarted server). `keys` route the call on a cluster. The arguments go
 * to the client as one array, never spread into a call (a spread of ~120,000 arguments overflows
 * the stack); callers keep each call within `batch-limits.ts`.
 *
 * `mayRetry`, asked when the server did not know the script: false leaves the `NOSCRIPT` error
 * to the caller instead of sending the call again. A caller with several ordered calls in flight
 * says no for all but its last (step-batch.ts): a later one may have run already, should another
 * client have loaded the script in between, and a retry would then run after it.
 */
export async function runScript(
  client: Redis | Cluster,
  script: Script,
  keys: readonly string[],
  args: readonly string[],
  mayRetry?: () => boolean,
): Promise<unknown> {
  // Built once with the SHA in front; a retry swaps in the source (each run copies no more).
  const command: string[] = [script.sha, String(keys.length)]
  for (const key of keys) command.push(key)
  for (const arg of args) command.push(arg)
  try {
    return await client.call('evalsha', command)
  } catch (error) {
    if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error
    if (mayRetry?.() === false) throw error
    command[0] = script.source
    return client.call('eval', command)
  }
}

const RELEASE_SCRIPT = script(RELEASE)

/** Takes the lease of `key` for `token` (or finds it already ours); true when `token` holds it. */
export async function acquireLease(
  client: Redis | Cluster,
  prefix: string,
  key: string,
  token: string,
  ttlMs: number,
): Promise<boolean> {
  const lease = leaseKey(prefix, key)
  const reply = await client.set(lease, token, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX')
  return reply === 'OK' || (await client.get(lease)) === token
}

/** Ends the lease of `key` if `token` still holds it (compare and delete, one script). */
export async function releaseLease(
  client: Redis | Cluster,
  prefix: string,
  key: string,
  token: string,
): Promise<void> {
  await runScript(client, RELEASE_SCRIPT, [leaseKey(prefix, key)], [token])
}

const SAFE_POLICIES = /^(volatile-|noeviction$)/

/**
 * Counters and tag records have no ttl and must never be evicted: an evicted record could make
 * an invalidated entry valid again (the floor catches a lost record, at the price of reloads).
 * Eviction policies that may pick keys without a ttl are reported once per process, as the coded warning
 * CACHEGRAPH_REDIS_POLICY: to `logger` when there is one, else as a process warning.
 */
export async function checkEvictionPolicy(client: Redis, logger?: Logger): Promise<void> {
  try {
    const reply = (await client.config('GET', 'maxmemory-policy')) as string[]
    const policy = reply[1] ?? ''
    if (policy !== '' && !SAFE_POLICIES.test(policy)) REDIS_EVICTION_POLICY.log(logger, policy)
  } catch {
    // CONFIG may be disabled (managed Redis): nothing to check then.
  }
}

/** Prefixes are part of key names and Lua patterns: keep them to a safe alphabet. */
export function checkPrefix(prefix: string): void {
  if (!/^[A-Za-z0-9_.:-]+$/.test(prefix)) {
    throw invalidOption('prefix', "of redisStore must be letters, digits, '_', '.', ':' or '-'")
  }
}

/**
 * One `SCAN` page of one node over the entries of `prefix`, with each key's remaining ttl (one
 * pipelined `PTTL` per page). Keys are returned without the `prefix:e:` part.
 */
export async function scanNode(
  node: Redis,
  prefix: string,
  match: string,
  cursor: string,
  count: number,
): Promise<{ keys: { key: string; ttlMs: number }[]; cursor: string }> {
  const entries = entryPrefix(prefix)
  const [next, found] = await node.scan(cursor, 'MATCH', entries + match, 'COUNT', count)
  if (found.length === 0) return { keys: [], cursor: next }
  const pipeline = node.pipeline()
  for (const key of found) pipeline.pttl(key)
  const ttls = (await pipeline.exec()) ?? []
  const keys = found
    .map((key, i) => ({ key: key.slice(entries.length), ttlMs: Number(ttls[i]?.[1] ?? -2) }))
    .filter((entry) => entry.ttlMs > 0)
  return { keys, cursor: next }
}

/**
 * The name a store gives the steps it sends (in their bus messages) until a bus tells it the
 * process's member id: `cachegraph-<pid>-<random>`.
 */
export function processOrigin(): string {
  return `cachegraph-${process.pid}-${randomBytes(4).toString('hex')}`
}
