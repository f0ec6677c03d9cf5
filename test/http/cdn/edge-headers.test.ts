import { describe, expect, it } from 'vitest'

import { edgeHeaders, edgeTags } from '../../../src/http/cdn/edge-headers.js'
import { bucketTag, encodeTag, purgeTags } from '../../../src/http/cdn/encode.js'
import { type CdnVendor, VENDORS, type VendorProfile } from '../../../src/http/cdn/vendors.js'

const vendors: CdnVendor[] = ['fastly', 'cloudflare', 'varnish', 'akamai']
const AKAMAI_CHARS = /^[A-Za-z0-9&'^\-$!`#%.+~_|]+$/
const bytes = (text: string) => Buffer.byteLength(text)

/** Every tag is purgeable: its encoding, or its bucket, is on the object. */
function expectCovered(tags: readonly string[], carried: readonly string[], p: VendorProfile) {
  const set = new Set(carried)
  for (const tag of tags) {
    const covered = set.has(encodeTag(tag, p)) || set.has(bucketTag(tag))
    expect(covered, `tag ${tag} is purgeable`).toBe(true)
    // ...and a purge of it sends what the object carries.
    expect(purgeTags([tag], p).some((t) => set.has(t))).toBe(true)
  }
}

function expectWithinLimits(carried: readonly string[], p: VendorProfile) {
  expect(carried.length).toBeLessThanOrEqual(p.maxTags)
  expect(bytes(carried.join(p.separator))).toBeLessThanOrEqual(p.maxHeaderBytes)
  for (const tag of carried) {
    expect(bytes(tag)).toBeLessThanOrEqual(p.maxTagBytes)
    expect(tag).not.toMatch(/[\s,]/)
    if (p.vendor === 'akamai') expect(tag).toMatch(AKAMAI_CHARS)
  }
}

describe('encodeTag', () => {
  it('keeps the usual tags readable where the vendor allows it', () => {
    expect(encodeTag('http:/users/7/*', VENDORS.fastly)).toBe('http:/users/7/*')
    expect(encodeTag('user:7', VENDORS.cloudflare)).toBe('user:7')
    expect(encodeTag('user:7', VENDORS.varnish)).toBe('user:7')
    expect(encodeTag('http:/users/7/*', VENDORS.akamai)).toBe('http%3A%2Fusers%2F7%2F%2A')
  })

  it('percent-encodes separators, quotes, escapes and non-ASCII, reversibly', () => {
    const tag = 'user:Ann Lee,"é"%!;\\\t'
    expect(encodeTag(tag, VENDORS.fastly)).toBe('user:Ann%20Lee%2C%22%C3%A9%22%25%21%3B%5C%09')
    for (const vendor of vendors) {
      const encoded = encodeTag(tag, VENDORS[vendor])
      expect(decodeURIComponent(encoded)).toBe(tag)
    }
    // `%` is always escaped: a tag that looks like an escape stays apart from the escaped one.
    expect(encodeTag('a%20b', VENDORS.fastly)).not.toBe(encodeTag('a b', VENDORS.fastly))
  })

  it('hashes tags past the length limit, keeping a readable head, without collisions', () => {
    for (const vendor of vendors) {
      const p = VENDORS[vendor]
      const a = `doc:${'x'.repeat(3000)}a`
      const b = `doc:${'x'.repeat(3000)}b`
      const ea = encodeTag(a, p)
      expect(bytes(ea)).toBeLessThanOrEqual(p.maxTagBytes)
      expect(ea).toMatch(/![0-9a-f]{32}$/)
      expect(ea.startsWith(encodeTag('doc:xxxx', p))).toBe(true)
      expect(ea).not.toBe(encodeTag(b, p))
      expect(ea).toBe(encodeTag(a, p))
    }
  })

  it('never cuts a percent-escape when hashing', () => {
    const p = VENDORS.akamai
    for (let pad = 0; pad < 4; pad++) {
      const encoded = encodeTag(`${'a'.repeat(90 + pad)}${'é'.repeat(40)}`, p)
      const head = encoded.slice(0, encoded.indexOf('!'))
      expect(head).toMatch(/^(?:[^%]|%[0-9A-F]{2})*$/)
    }
  })
})

describe('edgeTags: limits per vendor', () => {
  const pathTags = ['http:/spaces/1/items/9', 'http:/spaces/*', 'http:/spaces/1/*', 'item:9']

  it('carries every tag when they fit, path tags first, deduplicated, implicit ones dropped', () => {
    const carried = edgeTags(['team:3', ...pathTags, 'team:3', '@fn:load'], VENDORS.fastly)
    expect(carried).toEqual([
      'http:/spaces/1/items/9',
      'http:/spaces/*',
      'http:/spaces/1/*',
      'team:3',
      'item:9',
    ])
  })

  for (const vendor of vendors) {
    it(`${vendor}: many tags stay within the limits and each stays purgeable`, () => {
      const p = VENDORS[vendor]
      const tags = [...pathTags]
      for (let i = 0; i < 3000; i++) tags.push(`product:${i}-${'v'.repeat(i % 40)}`)
      const carried = edgeTags(tags, p)
      expect(carried).toBeDefined()
      expectWithinLimits(carried ?? [], p)
      expectCovered(tags, carried ?? [], p)
      // The path tags are kept as they are: a write to the path purges exactly them.
      for (const tag of pathTags) expect(carried).toContain(encodeTag(tag, p))
    })

    it(`${vendor}: long tags and odd characters stay within the limits`, () => {
      const p = VENDORS[vendor]
      const tags = [
        `search:${'q'.repeat(5000)}`,
        'user:Ann Lee',
        'name:a,b',
        'emoji:🙂',
        'path:/a/b*',
        'colon::',
      ]
      const carried = edgeTags(tags, p) ?? []
      expectWithinLimits(carried, p)
      expectCovered(tags, carried, p)
    })
  }

  it('akamai: at most 128 tags, so 200 entity tags fall back to buckets', () => {
    const p = VENDORS.akamai
    const tags = Array.from({ length: 200 }, (_, i) => `user:${i}`)
    const carried = edgeTags(tags, p) ?? []
    expect(carried.length).toBeLessThanOrEqual(128)
    expect(carried.filter((t) => t.startsWith('!cg-bucket-')).length).toBeGreaterThan(0)
    expectCovered(tags, carried, p)
  })

  it('gives up (no edge caching) when not even the buckets fit', () => {
    const tiny: VendorProfile = { ...VENDORS.fastly, maxTags: 3 }
    const tags = Array.from({ length: 50 }, (_, i) => `user:${i}`)
    expect(edgeTags(tags, tiny)).toBeUndefined()
    expect(edgeHeaders(tiny, undefined, 60_000, false)).toEqual({
      'surrogate-control': 'no-store',
      'cache-control': 'private, no-cache',
    })
  })
})

describe('edgeHeaders', () => {
  it('uses each vendor tag header, separator and control header', () => {
    const tags = ['http:/a', 'user:1']
    const of = (v: CdnVendor, own = false) =>
      edgeHeaders(VENDORS[v], edgeTags(tags, VENDORS[v]), 90_500, own)
    expect(of('fastly')).toEqual({
      'surrogate-key': 'http:/a user:1',
      'surrogate-control': 'max-age=90',
      'cache-control': 'max-age=0, must-revalidate',
    })
    expect(of('cloudflare')).toEqual({
      'cache-tag': 'http:/a,user:1',
      'cloudflare-cdn-cache-control': 'max-age=90',
      'cache-control': 'max-age=0, must-revalidate',
    })
    expect(of('varnish', true)).toEqual({
      xkey: 'http:/a user:1',
      'surrogate-control': 'max-age=90',
    })
    expect(of('akamai')).toEqual({
      'edge-cache-tag': 'http%3A%2Fa,user%3A1',
      'akamai-cache-control': 'max-age=90',
      'cache-control': 'max-age=0, must-revalidate',
    })
  })

  it('does not let the edge keep a response with no lifetime left', () => {
    expect(edgeHeaders(VENDORS.cloudflare, ['a'], 999, false)).toEqual({
      'cloudflare-cdn-cache-control': 'no-store',
      'cache-control': 'private, no-cache',
    })
  })
})
