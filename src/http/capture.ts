import { headerText, type HeaderValue } from './headers.js'
import type { CapturedResponse, HttpExchange } from './types.js'
import { splitUrl } from './url.js'

type Headers = Readonly<Record<string, string>>

interface Deferred<T> {
  promise: Promise<T>
  resolve(value: T): void
  reject(error: unknown): void
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/**
 * The hand-over between a framework's "about to send" hook and the core, for one request whose
 * handler runs inside the read-through. The adapter's `ServePort.run` starts the handler and
 * returns {@link Capture.response}; its send hook calls {@link Capture.offer} with the response
 * and sends it once the offer resolves with the headers to add; `ServePort.release` is
 * {@link Capture.release}.
 *
 * @example
 * const capture = new Capture()
 * const port = { run: () => (startHandler(), capture.response), release: (h) => capture.release(h) }
 * // in the send hook:
 * if (capture.waiting) addHeaders(await capture.offer({ status, headers, body }))
 */
export class Capture {
  // Made when first needed: a hit never runs the handler, and pays for no promise.
  #response: Deferred<CapturedResponse> | undefined
  #release: Deferred<Headers> | undefined
  #waiting = true

  /** Resolves with the offered response; rejects with the error given to {@link Capture.fail}. */
  get response(): Promise<CapturedResponse> {
    return (this.#response ??= deferred()).promise
  }

  /** Nothing was offered or failed yet: the handler has not answered. */
  get waiting(): boolean {
    return this.#waiting
  }

  /** Hands the response over; resolves with the headers to add once it may be sent. */
  offer(response: CapturedResponse): Promise<Headers> {
    if (this.#waiting) {
      this.#waiting = false
      ;(this.#response ??= deferred()).resolve(response)
    }
    return (this.#release ??= deferred()).promise
  }

  /** The handler failed before answering. */
  fail(error: unknown): void {
    if (!this.#waiting) return
    this.#waiting = false
    ;(this.#response ??= deferred()).reject(error)
  }

  /** Lets the offered response go, with `headers` added. */
  release(headers: Headers): void {
    ;(this.#release ??= deferred()).resolve(headers)
  }
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/** POST, PUT, PATCH and DELETE: the methods whose 2xx responses invalidate. */
export const isWrite = (method: string): boolean => WRITES.has(method)

/** GET and HEAD: the methods whose responses may be cached. */
export const isRead = (method: string): boolean => method === 'GET' || method === 'HEAD'

/**
 * The exchange of a request known by its method, raw request target (`/a?b=1`) and Node-style
 * headers (lower-case names, lists for repeated fields): what Node frameworks hand out. `host`
 * is the host the framework resolved (its proxy trust applied); omitted: the `Host` header.
 */
export function exchangeOf<R>(
  request: R,
  method: string,
  url: string,
  headers: Readonly<Record<string, HeaderValue>>,
  host?: string,
): HttpExchange<R> {
  const { path, query } = splitUrl(url)
  const header = (name: string) => headerText(headers[name])
  return { request, method, path, query, host: host || header('host'), header }
}

/**
 * The body of a payload about to be sent, as the core stores it: text or bytes (nothing: `''`);
 * `undefined` for anything else — a stream, a web `Response` — which is never stored.
 */
export function bodyOf(payload: unknown): string | Uint8Array | undefined {
  if (payload === undefined || payload === null) return ''
  if (typeof payload === 'string' || payload instanceof Uint8Array) return payload
  return undefined
}
