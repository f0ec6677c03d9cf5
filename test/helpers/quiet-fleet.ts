import { Redis } from 'ioredis'
import { inject } from 'vitest'

import type { Cache } from '../../src/cache/cache.js'
import { createCache } from '../../src/index.js'
import { redisBus } from '../../src/redis/bus.js'
import { HEARTBEAT } from '../../src/redis/scripts.js'
import type { RedisStore } from '../../src/redis/store.js'
import { redisStore } from '../../src/redis/store.js'
import { next } from './cache-events.js'
import { gatedBus } from './gated-bus.js'
import { redisClient, uniquePrefix } from './tiers.js'

/**
 * A fleet on one prefix for the tests of quiet steps: members (each its own store client and
 * gated bus), a watcher of what is published, and barriers that make "nothing was published"
 * something a test can see.
 */

const open: Cache[] = []
const subscribers: Redis[] = []

/** Closes every cache and watcher made since the last call (each test's `afterEach`). */
export async function closeFleet(): Promise<void> {
  await Promise.all(open.splice(0).map((cache) => cache.close()))
  for (const subscriber of subscribers.splice(0)) subscriber.disconnect()
}

/** Keeps `cache` to be closed by {@link closeFleet}. */
export function keep(cache: Cache): Cache {
  open.push(cache)
  return cache
}

/** The implicit tag a `set` of `key` supersedes (default namespace `cg`). */
export const keyTag = (key: string): string => `@key:cg::${key}`
/** `{P}:k`: the key tags some stored entry carried, each with the sequence it was marked at. */
export const knownKeys = (prefix: string): string => `{${prefix}}:k`

/** The tags of every step of other processes that `cache` applied from now on. */
export function applied(cache: Cache): string[] {
  const tags: string[] = []
  cache.on('bus:invalidate', (step) => tags.push(...step.tags))
  return tags
}

/** One process of a fleet: its own store client and a gated Redis bus. Resolves once trusted. */
export async function member(prefix: string, options: { maxEntryBytes?: number; l1?: false } = {}) {
  const bus = gatedBus(redisBus({ maxSilence: '10s' }))
  const store = redisStore({ url: inject('redisUrl'), prefix }) as RedisStore
  const cache = createCache({ store, bus, ...options })
  open.push(cache)
  await next(cache, 'bus:trusted')
  return { cache, gate: bus.gate }
}

/** One step of a published message: `h` hard, `s` soft, `-` quiet (taken, tags not sent). */
export interface PublishedStep {
  seq: number
  kind: string
  tags: readonly string[]
}

/** A message as a raw subscriber of `{P}:bus` receives it. */
export interface Published {
  text: string
  kinds: string
  /** The step published before this message: every step between the two was quiet. */
  after: number
  steps: PublishedStep[]
}

/** Reads the wire form `last \n epoch \n kinds \n origin \n after \n [tags JSON per step]`. */
export function parsePublished(text: string): Published {
  const lines = text.split('\n')
  const [last, , kinds = '', , after] = lines
  let lists: unknown = []
  try {
    lists = kinds === 'b' ? [] : JSON.parse(lines.slice(5).join('\n'))
  } catch {
    // Not the expected form: the message keeps its text, and carries no steps.
  }
  const first = Number(last) - kinds.length + 1
  const steps =
    kinds === 'b' || !Array.isArray(lists)
      ? []
      : [...kinds].map((kind, i) => ({
          seq: first + i,
          kind,
          tags: (lists as string[][])[i] ?? [],
        }))
  return { text, kinds, after: Number(after), steps }
}

/** Matches a message that names `tag` anywhere (read as text: it holds for any wire form). */
export const mentioning =
  (tag: string) =>
  (m: Published): boolean =>
    m.text.includes(JSON.stringify(tag))

/** What is published on the bus of `prefix` from now on, heard by a subscriber of its own. */
export async function watchBus(prefix: string) {
  const subscriber = new Redis(inject('redisUrl'))
  subscribers.push(subscriber)
  const seen: Published[] = []
  const waiters: { match: (m: Published) => boolean; resolve: (m: Published) => void }[] = []
  subscriber.on('message', (_channel: string, text: string) => {
    const message = parsePublished(text)
    seen.push(message)
    for (const waiter of [...waiters]) {
      if (!waiter.match(message)) continue
      waiters.splice(waiters.indexOf(waiter), 1)
      waiter.resolve(message)
    }
  })
  await subscriber.subscribe(`{${prefix}}:bus`)
  return {
    seen,
    /** The published steps that carry `tag`. */
    stepsWith: (tag: string): PublishedStep[] =>
      seen.flatMap((m) => m.steps.filter((step) => step.tags.includes(tag))),
    /** Whether any message so far mentions `tag` at all, in whatever form. */
    mentions: (tag: string): boolean => seen.some(mentioning(tag)),
    until: (match: (m: Published) => boolean): Promise<Published> => {
      const found = seen.find(match)
      if (found !== undefined) return Promise.resolve(found)
      return new Promise((resolve) => waiters.push({ match, resolve }))
    },
  }
}
export type BusWatch = Awaited<ReturnType<typeof watchBus>>

let barriers = 0
/**
 * Publishes a step and waits until every member applied it and the watcher heard it. Messages
 * arrive in the order they were published, so every step published before it has been applied
 * and heard too: what the watcher has not seen by then was never published.
 */
export async function barrier(cache: Cache, bus: BusWatch): Promise<Published> {
  const tag = `barrier-${++barriers}`
  await cache.invalidate(tag, { ack: true })
  return bus.until(mentioning(tag))
}

/** Asks the store to publish a heartbeat, as a member's timer does; resolves with its sequence. */
export async function heartbeat(prefix: string): Promise<number> {
  const [seq] = (await redisClient().eval(
    HEARTBEAT,
    1,
    `{${prefix}}:seq`,
    prefix,
    'quiet-steps-test',
  )) as [string, string]
  return Number(seq)
}

/** The sequence a key's last superseding step recorded in `{P}:h`. */
export async function recorded(prefix: string, tag: string): Promise<number> {
  return Number(await redisClient().hget(`{${prefix}}:h`, tag))
}

export { events, next } from './cache-events.js'

/**
 * Two members of a fresh prefix and a watcher of its bus, past a first published step: no step of
 * a state is quiet before one was published.
 */
export async function quietPair() {
  const prefix = uniquePrefix()
  const [a, b] = [await member(prefix), await member(prefix)]
  const bus = await watchBus(prefix)
  await barrier(a.cache, bus)
  return { prefix, a, b, bus }
}
