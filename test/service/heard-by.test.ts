import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest'

import { createInvalidationClient } from '../../src/client/index.js'
import { createAdminHandler } from '../../src/http/index.js'
import { type Cache, createCache, memoryStore } from '../../src/index.js'
import { redisBus } from '../../src/redis/bus.js'
import { redisStore } from '../../src/redis/store.js'
import { listen, type ListeningServer } from '../../src/service/server.js'
import { createInvalidationService } from '../../src/service/service.js'
import { INVALIDATION_UNHEARD, type Logger } from '../../src/warnings.js'
import { request } from '../http/admin/admin-fixtures.js'
import { redisClient, trusted, uniquePrefix } from '../helpers/tiers.js'

/**
 * A namespace or prefix mismatch is visible (issue 24): the answer to an invalidation says how
 * many other processes listen on the same store and bus (`heard_by`), and none is warned about
 * with a code — a service on the wrong prefix no longer answers a silent 200.
 */
const KEY = 'k-1'
const open: { close(): Promise<void> }[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((one) => one.close()))
})
beforeEach(() => INVALIDATION_UNHEARD.reset())

/** A logger that keeps what it is given. */
function recordingLogger() {
  const warnings: { code: unknown; message: string | undefined }[] = []
  const logger: Logger = {
    warn: (object, message) =>
      warnings.push({ code: (object as { code?: unknown }).code, message }),
    error: () => {},
    debug: () => {},
  }
  return { logger, warnings }
}

/** A cache with a Redis store and bus on `prefix`, once the bus vouches for it (a member). */
async function member(prefix: string, logger?: Logger): Promise<Cache> {
  const cache = createCache({
    namespace: 'shop',
    store: redisStore({ url: inject('redisUrl'), prefix }),
    bus: redisBus({ maxSilence: '2s' }),
    ...(logger === undefined ? {} : { logger }),
  })
  open.push(cache)
  return trusted(cache)
}

async function serve(cache: Cache): Promise<ListeningServer> {
  const handler = createInvalidationService({ cache, apiKeys: [KEY] })
  const server = await listen({ handler, port: 0 })
  open.push(server)
  return server
}

const post = (server: ListeningServer, body: unknown) =>
  fetch(`${server.url}/cache/invalidate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': KEY },
    body: JSON.stringify(body),
  })

describe('POST /cache/invalidate says how many processes heard it', () => {
  it('counts the other members on the same prefix, and warns about nothing', async () => {
    const prefix = uniquePrefix()
    await member(prefix)
    await member(prefix)
    const { logger, warnings } = recordingLogger()
    const server = await serve(await member(prefix, logger))
    const response = await post(server, { entity_id: 7, entity_type: 'product' })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ status: 'invalidated', heard_by: 2 })
    expect(warnings).toEqual([])
  })

  it('answers heard_by 0 on a prefix nobody listens to, with a coded warning', async () => {
    await member(uniquePrefix())
    const { logger, warnings } = recordingLogger()
    const server = await serve(await member(uniquePrefix(), logger))
    const response = await post(server, { tags: ['product:7'] })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ status: 'invalidated', heard_by: 0 })
    expect(warnings).toHaveLength(1)
    expect(warnings[0]?.code).toBe('CACHEGRAPH_INVALIDATION_UNHEARD')
    expect(warnings[0]?.message).toMatch(/namespace 'shop'.*reached no other process/)
  })

  it('says nothing of listeners without a bus', async () => {
    const cache = createCache({ store: memoryStore() })
    open.push(cache)
    const server = await serve(cache)
    const body = (await (await post(server, { tags: ['t'] })).json()) as Record<string, unknown>
    expect(body).toMatchObject({ status: 'invalidated' })
    expect(body).not.toHaveProperty('heard_by')
  })

  it('with ack after the fleet lost its records, says nothing of listeners rather than 0', async () => {
    const prefix = uniquePrefix()
    await member(prefix)
    const { logger, warnings } = recordingLogger()
    const server = await serve(await member(prefix, logger))
    await redisClient().del(`{${prefix}}:members`) // evicted alone: who listens is unknown
    const response = await fetch(`${server.url}/cache/invalidate?ack=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY },
      body: JSON.stringify({ tags: ['product:7'] }),
    })
    const body = (await response.json()) as Record<string, unknown>
    expect(body).toMatchObject({ status: 'invalidated', fleet: { membersKnown: false } })
    expect(body).not.toHaveProperty('heard_by')
    expect(warnings).toEqual([])
  })

  it('reaches the client: the sent event carries heardBy', async () => {
    const prefix = uniquePrefix()
    await member(prefix)
    const server = await serve(await member(prefix))
    const client = createInvalidationClient({
      apiUrl: `${server.url}/cache/invalidate`,
      apiKey: KEY,
    })
    const sent: unknown[] = []
    client.on('sent', ({ heardBy }) => sent.push(heardBy))
    client.invalidate(['product:7'])
    await client.flush()
    await client.close()
    expect(sent).toEqual([1])
  })
})

describe('POST {prefix}/invalidate of the admin API', () => {
  it('answers heard_by, and 0 with the warning when nobody else listens', async () => {
    const prefix = uniquePrefix()
    await member(prefix)
    const admin = createAdminHandler({ cache: await member(prefix), insecure: true })
    const heard = await admin(request('POST', '/api/cache/invalidate', { json: { tags: ['a'] } }))
    expect(await heard!.json()).toMatchObject({ status: 'invalidated', heard_by: 1 })

    const { logger, warnings } = recordingLogger()
    const alone = createAdminHandler({
      cache: await member(uniquePrefix(), logger),
      insecure: true,
    })
    const unheard = await alone(request('POST', '/api/cache/invalidate', { json: { tags: ['a'] } }))
    expect(await unheard!.json()).toMatchObject({ status: 'invalidated', heard_by: 0 })
    expect(warnings.map((w) => w.code)).toEqual(['CACHEGRAPH_INVALIDATION_UNHEARD'])
  })
})
