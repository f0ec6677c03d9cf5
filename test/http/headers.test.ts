import { describe, expect, it } from 'vitest'

import {
  isJson,
  noneMatch,
  storableHeaders,
  strongEtag,
  varyNames,
} from '../../src/http/headers.js'

describe('response headers', () => {
  it('Vary names are lower-cased, sorted and deduplicated', () => {
    expect(varyNames('Accept-Encoding, accept ,ACCEPT')).toEqual(['accept', 'accept-encoding'])
    expect(varyNames('*')).toEqual(['*'])
    expect(varyNames(undefined)).toEqual([])
  })

  it('never stores hop-by-hop, per-exchange or recomputed fields', () => {
    const stored = storableHeaders(
      {
        'content-type': 'application/json',
        'x-custom': 'kept',
        connection: 'keep-alive, x-hop',
        'x-hop': 'dropped',
        'keep-alive': 'timeout=5',
        'transfer-encoding': 'chunked',
        date: 'now',
        age: '3',
        'content-length': '10',
        etag: '"x"',
        'x-cache': 'MISS',
        'x-request-id': 'r1',
        'x-mine': 'dropped too',
      },
      new Set(['x-mine']),
    )
    expect(stored).toEqual({ 'content-type': 'application/json', 'x-custom': 'kept' })
  })

  it('ETags are strong hashes of the body, equal for equal bytes', () => {
    expect(strongEtag('abc')).toMatch(/^"[\w-]{27}"$/)
    expect(strongEtag('abc')).toBe(strongEtag(Buffer.from('abc')))
    expect(strongEtag('abc')).not.toBe(strongEtag('abd'))
  })

  it('If-None-Match uses the weak comparison (RFC 9110 §13.1.2)', () => {
    expect(noneMatch('"a"', '"a"')).toBe(true)
    expect(noneMatch('W/"a"', '"a"')).toBe(true)
    expect(noneMatch('"b", W/"a"', '"a"')).toBe(true)
    expect(noneMatch('"a"', 'W/"a"')).toBe(true)
    expect(noneMatch(' * ', '"a"')).toBe(true)
    expect(noneMatch('"b"', '"a"')).toBe(false)
    expect(noneMatch(undefined, '"a"')).toBe(false)
  })

  it('recognises JSON media types', () => {
    expect(isJson('application/json; charset=utf-8')).toBe(true)
    expect(isJson('application/problem+json')).toBe(true)
    expect(isJson('text/plain')).toBe(false)
    expect(isJson(undefined)).toBe(false)
  })
})
