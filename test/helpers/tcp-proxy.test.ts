import { once } from 'node:events'
import { connect } from 'node:net'

import { Redis } from 'ioredis'
import { afterEach, describe, expect, inject, it } from 'vitest'

import { settle, until } from './deferred.js'
import { answers } from './redis-server.js'
import { startProxy, type TcpProxy } from './tcp-proxy.js'
import { uniquePrefix } from './tiers.js'

const target = new URL(inject('redisUrl'))
/** The run's Redis URL (credentials and db kept) pointed at the proxy. */
const through = (proxy: TcpProxy): string => {
  const url = new URL(target)
  url.hostname = '127.0.0.1'
  url.port = String(proxy.port)
  return url.toString()
}

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step()
})

async function setUp(): Promise<{ proxy: TcpProxy; client: Redis; direct: Redis; key: string }> {
  const proxy = await startProxy({
    target: { host: target.hostname, port: Number(target.port || 6379) },
  })
  cleanup.push(() => proxy.close())
  const client = new Redis(through(proxy), { commandTimeout: 200, maxRetriesPerRequest: 1 })
  client.on('error', () => {}) // timeouts and cuts are what these tests cause
  const direct = new Redis(target.toString())
  cleanup.push(
    () => client.disconnect(),
    () => direct.disconnect(),
  )
  const key = `${uniquePrefix()}:proxy`
  await direct.set(key, 'value', 'PX', 60_000)
  return { proxy, client, direct, key }
}

describe('tcp proxy', () => {
  it('forwards commands to Redis', async () => {
    const { client, key } = await setUp()
    expect(await client.get(key)).toBe('value')
  })

  it('stall() makes commands time out; resume() delivers what was held, then forwards', async () => {
    const { proxy, client, direct, key } = await setUp()
    expect(await client.get(key)).toBe('value')
    proxy.stall()
    await expect(client.set(key, 'held')).rejects.toThrow(/timed out/i)
    expect(proxy.held).toBeGreaterThan(0)
    expect(await direct.get(key)).toBe('value') // the SET never reached Redis
    proxy.resume()
    expect(proxy.held).toBe(0)
    expect(await client.get(key)).toBe('held') // the held SET went first
  })

  it('stall() holds replies too', async () => {
    const { proxy, client, direct, key } = await setUp()
    const list = `${key}:list`
    const blocked = new Redis(through(proxy))
    cleanup.push(() => blocked.disconnect())
    const popped = blocked.blpop(list, 0)
    await until(async () => String(await direct.client('LIST')).includes('cmd=blpop'))
    proxy.stall()
    await direct.rpush(list, 'item')
    await until(() => proxy.held > 0) // the reply reached the proxy
    let settled = false
    void popped.finally(() => (settled = true))
    await settle()
    expect(settled).toBe(false)
    proxy.resume()
    expect(await popped).toEqual([list, 'item'])
    expect(await client.get(key)).toBe('value')
  })

  it('accepts connections while stalled, and answers them once resumed', async () => {
    const { proxy } = await setUp()
    proxy.stall()
    const socket = connect(proxy.port, '127.0.0.1')
    cleanup.push(() => socket.destroy())
    await once(socket, 'connect')
    socket.write('PING\r\n')
    await until(() => proxy.held > 0)
    const reply = once(socket, 'data')
    proxy.resume()
    // No credentials on this raw socket: a NOAUTH error is a reply from Redis as well.
    expect(String((await reply)[0])).toMatch(/^(\+PONG|-NOAUTH)/)
  })

  it('cut() drops every connection; ioredis reconnects through the proxy', async () => {
    const { proxy, client, key } = await setUp()
    expect(await client.get(key)).toBe('value')
    const closed = once(client, 'close')
    const ready = once(client, 'ready')
    proxy.cut()
    await closed
    await ready
    expect(await client.get(key)).toBe('value')
  })

  it('close() stops accepting connections', async () => {
    const { proxy } = await setUp()
    expect(await answers(through(proxy))).toBe(true)
    await proxy.close()
    expect(await answers(through(proxy))).toBe(false)
  })
})
