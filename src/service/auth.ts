import { createHash, timingSafeEqual } from 'node:crypto'

/**
 * A check of the request's API key (`x-api-key`, or `Authorization: Bearer <key>`) against the
 * accepted keys. Keys are hashed to equal-length digests first, so `timingSafeEqual` compares
 * equal-length buffers and the time taken tells nothing about a key's content or length; every
 * accepted key is compared, so it does not tell which one matched either.
 */
export function apiKeyCheck(keys: readonly string[]): (request: Request) => boolean {
  const digests = keys.map(digest)
  return (request) => {
    const given = presentedKey(request)
    if (given === undefined) return false
    const candidate = digest(given)
    let ok = false
    for (const accepted of digests) ok = timingSafeEqual(candidate, accepted) || ok
    return ok
  }
}

const digest = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest()

function presentedKey(request: Request): string | undefined {
  const header = request.headers.get('x-api-key')
  if (header !== null && header !== '') return header
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '')
  return match?.[1]
}
