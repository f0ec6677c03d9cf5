import { createHash, timingSafeEqual } from 'node:crypto'

/**
 * A check of the request's API key (`x-api-key`, `Authorization: Bearer <key>`, or Basic with
 * the key as password) against the
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
  const authorization = request.headers.get('authorization') ?? ''
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization)
  if (bearer !== null) return bearer[1]
  // A browser (the dashboard, its event stream) can send no header of its own, only the Basic
  // credentials it prompted for (RFC 7617): the key is the password, the user name is ignored.
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization)
  if (basic === null) return undefined
  const decoded = Buffer.from(basic[1] as string, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return colon < 0 || colon === decoded.length - 1 ? undefined : decoded.slice(colon + 1)
}
