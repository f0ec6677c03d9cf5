import { request as httpRequest } from 'node:http'

/** A POST of `size` bytes in 64 KB chunks, with or without a content-length: the answer's status. */
export function postBytes(
  url: string,
  size: number,
  headers: Record<string, string>,
  declareLength: boolean,
): Promise<{ status: number; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const target = new URL('/cache/invalidate', url)
    const req = httpRequest(target, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...headers,
        ...(declareLength ? { 'content-length': String(size) } : {}),
      },
    })
    req.on('response', (res) => {
      res.resume()
      resolve({ status: res.statusCode ?? 0, connection: res.headers.connection })
    })
    // Writes after the server hung up fail (EPIPE, reset): the answer came first, or it did not.
    req.on('error', reject)
    const chunk = Buffer.alloc(64 * 1024, 0x20)
    let sent = 0
    const write = () => {
      while (sent < size) {
        sent += chunk.length
        if (!req.write(chunk)) return void req.once('drain', write)
      }
      req.end()
    }
    write()
  })
}
