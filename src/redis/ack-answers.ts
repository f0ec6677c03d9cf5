import type { Cluster, Redis } from 'ioredis'

/**
 * Answers to acknowledgement requests (fleet-scripts.ts), batched per Redis connection: every
 * bus that shares a store client — one process can host many caches — answers in one round trip
 * per tick, one `RPUSHX` per request however many of its members answer it, and a `PUBLISH` only
 * from the call whose append completed a request.
 */

/** One request's answers from this process in this tick. */
interface Pending {
  /** `{P}:acks:<requester>:<seq>` */
  key: string
  /** `{P}:ack:<requester>` */
  channel: string
  seq: number
  /** How many members the request asked. */
  asked: number
  members: string[]
  done: Deferred[]
}

type Client = Redis | Cluster

/** The answers waiting for the end of the tick, per client, by answers key. */
const waiting = new WeakMap<Client, Map<string, Pending>>()

/**
 * Appends `member` to the answers of the request `key` (which asked `asked` members) and tells
 * the requester on `channel` when that completes it. Resolves once sent; an answer to a request
 * that is over changes nothing.
 */
export function sendAnswer(
  client: Client,
  answer: { key: string; channel: string; seq: number; asked: number; member: string },
): Promise<void> {
  let batch = waiting.get(client)
  if (batch === undefined) {
    batch = new Map()
    waiting.set(client, batch)
    setImmediate(() => {
      const pending = waiting.get(client)
      waiting.delete(client)
      if (pending !== undefined) void flush(client, [...pending.values()])
    })
  }
  let pending = batch.get(answer.key)
  if (pending === undefined) {
    pending = { ...answer, members: [], done: [] }
    batch.set(answer.key, pending)
  }
  pending.members.push(answer.member)
  const done = deferred()
  pending.done.push(done)
  return done.promise
}

async function flush(client: Client, pending: Pending[]): Promise<void> {
  const settle = (p: Pending, error?: unknown) => {
    for (const done of p.done) {
      if (error === undefined) done.resolve()
      else done.reject(error)
    }
  }
  try {
    // All keys of one store share its hash slot; a cluster client splits a pipeline by node.
    const appends = client.pipeline()
    for (const p of pending) appends.rpushx(p.key, ...p.members)
    const lengths = (await appends.exec()) ?? []
    const complete: Pending[] = []
    pending.forEach((p, i) => {
      const [error, length] = lengths[i] ?? [new Error('cachegraph: no reply to an answer')]
      if (error) return settle(p, error)
      // The list starts with one empty item; every member asked appends itself once.
      if (typeof length === 'number' && length > p.asked) complete.push(p)
      else settle(p)
    })
    if (complete.length === 0) return
    const notices = client.pipeline()
    for (const p of complete) notices.publish(p.channel, String(p.seq))
    const sent = (await notices.exec()) ?? []
    complete.forEach((p, i) => settle(p, sent[i]?.[0] ?? undefined))
  } catch (error) {
    for (const p of pending) settle(p, error)
  }
}

interface Deferred {
  promise: Promise<void>
  resolve(): void
  reject(error: unknown): void
}

function deferred(): Deferred {
  let resolve!: () => void
  let reject!: (error: unknown) => void
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)))
  return { promise, resolve, reject }
}
