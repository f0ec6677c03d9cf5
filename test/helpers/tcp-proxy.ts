import { createServer, connect, type Socket } from 'node:net'

/** A TCP proxy in front of a real server, for faults that must not touch the server itself. */
export interface TcpProxy {
  port: number
  /** `redis://127.0.0.1:<port>` */
  url: string
  /** Keeps accepting connections and bytes, forwards nothing either way: a server that hangs. */
  stall(): void
  /** Forwards commands, holds the server's replies: a server whose answers are late. */
  holdReplies(): void
  /** Forwards again, held bytes first. */
  resume(): void
  /** Destroys every open connection (both sides); new connections are still accepted. */
  cut(): void
  /** Bytes held by a stall, both directions, all connections. */
  readonly held: number
  /** Stops listening and destroys every connection. */
  close(): Promise<void>
}

/** Bytes from one socket to the other, held while the proxy stalls. */
class Pipe {
  readonly #to: Socket
  readonly #held: (Buffer | null)[] = []
  #bytes = 0

  constructor(from: Socket, to: Socket, stalled: () => boolean) {
    this.#to = to
    from.on('data', (chunk: Buffer) => (stalled() ? this.#hold(chunk) : to.write(chunk)))
    // A half-close (QUIT, then the server's FIN) travels in order behind the data.
    from.on('end', () => (stalled() ? this.#hold(null) : to.end()))
  }

  get held(): number {
    return this.#bytes
  }

  flush(): void {
    for (const chunk of this.#held.splice(0)) {
      if (chunk === null) this.#to.end()
      else this.#to.write(chunk)
    }
    this.#bytes = 0
  }

  #hold(chunk: Buffer | null): void {
    this.#held.push(chunk)
    this.#bytes += chunk?.length ?? 0
  }
}

/** One client connection and its connection to the target. */
interface Link {
  sockets: [Socket, Socket]
  pipes: [Pipe, Pipe]
}

/**
 * Starts a proxy on a free port of 127.0.0.1 that forwards every connection to `target`.
 *
 * @example
 * const proxy = await startProxy({ target: { host: '127.0.0.1', port: 6379 } })
 * const client = new Redis(proxy.url, { commandTimeout: 200 })
 * proxy.stall() // commands now time out
 */
export async function startProxy(options: {
  target: { host: string; port: number }
}): Promise<TcpProxy> {
  const links = new Set<Link>()
  let stalled: 'all' | 'replies' | undefined
  const toServerHeld = () => stalled === 'all'
  const toClientHeld = () => stalled !== undefined

  const server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = connect({ ...options.target, allowHalfOpen: true })
    const link: Link = {
      sockets: [client, upstream],
      pipes: [new Pipe(client, upstream, toServerHeld), new Pipe(upstream, client, toClientHeld)],
    }
    links.add(link)
    const drop = () => {
      links.delete(link)
      client.destroy()
      upstream.destroy()
    }
    for (const socket of link.sockets) {
      socket.on('error', drop)
      socket.on('close', drop)
    }
  })
  server.unref()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address() as { port: number }
  const cut = () => {
    for (const link of [...links]) for (const socket of link.sockets) socket.destroy()
    links.clear()
  }

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stall: () => void (stalled = 'all'),
    holdReplies: () => void (stalled ??= 'replies'),
    resume: () => {
      stalled = undefined
      for (const link of links) for (const pipe of link.pipes) pipe.flush()
    },
    cut,
    get held() {
      let bytes = 0
      for (const link of links) for (const pipe of link.pipes) bytes += pipe.held
      return bytes
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        cut()
      }),
  }
}

/** {@link startProxy} in front of the Redis at `url` (`redis://host:port`). */
export function proxyTo(url: string): Promise<TcpProxy> {
  const target = new URL(url)
  return startProxy({ target: { host: target.hostname, port: Number(target.port) } })
}
