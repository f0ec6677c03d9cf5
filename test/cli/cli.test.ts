import { request } from 'node:http'

import { afterEach, describe, expect, inject, it } from 'vitest'

import { redisBus } from '../../src/redis/bus.js'
import { type Cache, createCache } from '../../src/index.js'
import { redisStore } from '../../src/redis/store.js'
import { uniquePrefix } from '../helpers/tiers.js'
import { closedPort, run, serve, type Served } from './spawn.js'

const running: Served[] = []
const caches: Cache[] = []
afterEach(async () => {
  for (const served of running.splice(0)) {
    if (served.child.exitCode === null) served.child.kill('SIGKILL')
  }
  await Promise.all(caches.splice(0).map((cache) => cache.close()))
})

async function start(args: string[], env: Record<string, string> = {}) {
  const served = await serve(args, env)
  running.push(served)
  return served
}

describe('cachegraph serve', () => {
  it('says it runs on the embedded memory store, answers /health, stops gracefully on SIGTERM', async () => {
    const served = await start(['--insecure', '--namespace', 'shop'])
    expect(served.log()).toMatch(/embedded memory store/)
    const health = await fetch(`${served.url}/health`)
    expect(await health.json()).toMatchObject({ status: 'ok', namespace: 'shop', store: 'memory' })

    // A request in flight: its body is not complete when SIGTERM arrives.
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${served.url}/cache/invalidate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      })
      req.on('response', (res) => {
        let body = ''
        res.on('data', (chunk: Buffer) => (body += chunk.toString()))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      })
      req.on('error', reject)
      req.write('{"tags":')
      void served.waitFor(/finishing requests in flight/).then(() => req.end('["t"]}'))
    })
    // The partial request reached the server before this one (same host, earlier connection).
    expect((await fetch(`${served.url}/health`)).status).toBe(200)
    served.child.kill('SIGTERM')
    const { status, body } = await answer
    expect(status).toBe(200)
    expect(JSON.parse(body)).toMatchObject({ status: 'invalidated', tags: ['t'] })
    expect(await served.exited).toBe(0)
    expect(served.log()).toMatch(/stopped/)
  })

  it("answers the seed client's exact request", async () => {
    const served = await start(['--api-key', 'k'])
    // requests.post(api_url, json={...}, headers={'x-api-key': api_key}), byte for byte.
    const response = await fetch(`${served.url}/cache/invalidate`, {
      method: 'POST',
      headers: {
        'user-agent': 'python-requests/2.31.0',
        'accept-encoding': 'gzip, deflate',
        accept: '*/*',
        'x-api-key': 'k',
        'content-type': 'application/json',
      },
      body: '{"entity_id": 123, "entity_type": "product"}',
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ status: 'invalidated', tags: ['product:123'] })
  })

  it('refuses to start without an API key (exit 2), takes keys from flags and env', async () => {
    const refused = await run(['serve', '--port', '0'])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/--insecure/)
    const served = await start([], { CACHE_API_KEYS: 'a, b' })
    const ask = (key: string) =>
      fetch(`${served.url}/api/cache/stats`, { headers: { 'x-api-key': key } })
    expect((await ask('a')).status).toBe(200)
    expect((await ask('b')).status).toBe(200)
    expect((await ask('c')).status).toBe(401)
  })

  it('rejects bad flags with exit 2 and explains every flag in --help', async () => {
    expect((await run(['serve', '--port', 'x', '--insecure'])).code).toBe(2)
    expect((await run(['serve', '--nope'])).code).toBe(2)
    expect((await run(['frobnicate'])).code).toBe(2)
    const help = await run(['--help'])
    expect(help.code).toBe(0)
    for (const flag of ['--port', '--host', '--redis', '--prefix', '--namespace', '--max-body']) {
      expect(help.stdout).toContain(flag)
    }
    for (const flag of ['--api-key', '--insecure', '--tag', '--entity', '--url', 'Exit codes']) {
      expect(help.stdout).toContain(flag)
    }
  })

  it("with --redis, an invalidation reaches another process's L1 through the bus", async () => {
    const prefix = uniquePrefix()
    const url = inject('redisUrl')
    const app = createCache({
      namespace: 'app',
      store: redisStore({ url, prefix }),
      bus: redisBus(),
    })
    caches.push(app)
    await new Promise((resolve) => app.on('bus:trusted', resolve))
    let loads = 0
    expect(await app.getOrSet('u', () => ++loads, { tags: ['user:1'] })).toBe(1)
    expect(await app.getOrSet('u', () => ++loads, { tags: ['user:1'] })).toBe(1)
    const served = await start(['--namespace', 'app', '--prefix', prefix, '--api-key', 'k'], {
      REDIS_URL: url,
    })
    expect(served.log()).toMatch(/store: redis/)
    const heard = new Promise((resolve) =>
      app.on('bus:invalidate', (event) => event.tags.includes('user:1') && resolve(event)),
    )
    const result = await run(['invalidate', '--entity', 'user:1', '--url', served.url], {
      CACHE_API_KEY: 'k',
    })
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'invalidated', tags: ['user:1'] })
    await heard
    expect(await app.getOrSet('u', () => ++loads, { tags: ['user:1'] })).toBe(2)
  })
})

describe('cachegraph invalidate / stats', () => {
  it('exit codes: 0 ok, 1 refused, 2 usage, 3 unreachable', async () => {
    const served = await start(['--api-key', 'k'])
    const ok = await run([
      'invalidate',
      '--tag',
      'a',
      '--tag',
      'b',
      '--url',
      served.url,
      '--api-key',
      'k',
    ])
    expect(ok.code).toBe(0)
    expect(JSON.parse(ok.stdout)).toMatchObject({ tags: ['a', 'b'] })
    const stats = await run(['stats', '--url', served.url, '--api-key', 'k'])
    expect(stats.code).toBe(0)
    expect(JSON.parse(stats.stdout)).toHaveProperty('invalidations')
    const wrong = await run(['invalidate', '--tag', 'a', '--url', served.url, '--api-key', 'x'])
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toMatch(/401/)
    expect((await run(['stats', '--url', served.url])).code).toBe(1)
    expect((await run(['invalidate', '--url', served.url])).code).toBe(2)
    expect((await run(['invalidate', '--entity', 'user'])).code).toBe(2)
    const port = await closedPort()
    const down = await run(['invalidate', '--tag', 'a', '--url', `http://127.0.0.1:${port}`])
    expect(down.code).toBe(3)
    expect((await run(['stats', '--url', `http://127.0.0.1:${port}`])).code).toBe(3)
  }, 60_000) // eight commands in turn, each a new node process: slow on a busy machine
})
