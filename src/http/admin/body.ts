import { JsonSyntaxError, parseExactJson } from '../../protocol/exact-json.js'
import { HttpError } from './responses.js'

/**
 * The JSON body of `request`: 415 unless its media type is JSON (`application/json` or
 * `+json`), 413 past `limit` bytes (checked on `content-length` first, then while reading, so a
 * lying or missing length cannot make it buffer more), 400 when it does not parse.
 *
 * Numbers are kept exactly (see `src/protocol/exact-json.ts`): an integer beyond 2^53 — a Snowflake-style id —
 * is a `bigint` of its digits, and a number a float would round is refused with a 400.
 */
export async function readJson(request: Request, limit: number): Promise<unknown> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase()
  if (
    type !== 'application/json' &&
    !(type?.startsWith('application/') && type.endsWith('+json'))
  ) {
    throw new HttpError(415, "cachegraph: the body must be JSON (content-type 'application/json')")
  }
  const declared = Number(request.headers.get('content-length') ?? NaN)
  if (declared > limit) throw tooLarge(limit)
  const bytes = await readAtMost(request, limit)
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw new HttpError(400, 'cachegraph: the body is not valid JSON (not UTF-8)')
  }
  try {
    return parseExactJson(text)
  } catch (error) {
    if (error instanceof JsonSyntaxError && error.inexact) {
      throw new HttpError(400, `cachegraph: ${error.message}`)
    }
    const problem = error instanceof JsonSyntaxError ? ` (${error.message})` : ''
    throw new HttpError(400, `cachegraph: the body is not valid JSON${problem}`)
  }
}

async function readAtMost(request: Request, limit: number): Promise<Uint8Array> {
  if (request.body === null) return new Uint8Array(0)
  // Node types the body's chunks as `any`; a fetch body yields bytes.
  const reader = request.body.getReader() as ReadableStreamDefaultReader<Uint8Array>
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read().catch(() => {
      // The client went away or sent a broken stream: its mistake, not the cache's.
      throw new HttpError(400, 'cachegraph: the body could not be read')
    })
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel().catch(() => {})
      throw tooLarge(limit)
    }
    chunks.push(value)
  }
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return bytes
}

const tooLarge = (limit: number) =>
  new HttpError(413, `cachegraph: the body is larger than ${limit} bytes`)
