/** The CDNs whose tag headers and purge APIs cachegraph speaks. */
export type CdnVendor = 'fastly' | 'cloudflare' | 'varnish' | 'akamai'

export const CDN_VENDORS: readonly CdnVendor[] = ['fastly', 'cloudflare', 'varnish', 'akamai']

/** What one vendor accepts: its tag header, its limits, and how the edge's lifetime is set. */
export interface VendorProfile {
  readonly vendor: CdnVendor
  /** Response header carrying the tags (lower case). */
  readonly tagHeader: string
  /** Between two tags in {@link VendorProfile.tagHeader}. */
  readonly separator: string
  /** Longest tag, in bytes (tags are ASCII once encoded). */
  readonly maxTagBytes: number
  /** Most tags on one object. */
  readonly maxTags: number
  /** Longest value of the tag header, in bytes. */
  readonly maxHeaderBytes: number
  /**
   * Characters a tag may keep as they are; every other byte is percent-encoded. `%` (the escape)
   * and `!` (the mark of hashed and bucket tags) are never in it.
   */
  readonly safe: RegExp
  /** The response header that tells this edge (and only it) how long to keep the object. */
  readonly controlHeader: string
}

/**
 * Visible ASCII except the separators and what proxies handle badly: `%` `!` (ours), space,
 * `,`, `"`, `\`, `;`.
 */
const VISIBLE = /^[#$&'()*+\-./0-9:<=>?@A-Z[\]^_`a-z{|}~]$/
/** Akamai: an RFC 9110 token, without `*` (Akamai refuses it), `%` and `!` (ours). */
const AKAMAI = /^[#$&'+\-.0-9A-Z^_`a-z|~]$/

/**
 * Vendor limits, from their documentation:
 * - Fastly: `Surrogate-Key` at most 16,384 bytes, each key at most 1,024 bytes.
 * - Cloudflare: `Cache-Tag` at most 16 KB in all, each tag at most 1,024 characters, printable
 *   ASCII without spaces; tags are case-insensitive (a purge may reach more, never less).
 * - Varnish (xkey vmod): no limit of its own; the header is kept under 8 KB, the default
 *   `http_resp_hdr_len`, and tags under 1,024 bytes.
 * - Akamai: `Edge-Cache-Tag` tokens (no `*`, `:`, `/`, `@`...), at most 128 characters each and
 *   128 per object (more are ignored), the header under Akamai's 8,192-byte reply header limit.
 */
export const VENDORS: Readonly<Record<CdnVendor, VendorProfile>> = {
  fastly: {
    vendor: 'fastly',
    tagHeader: 'surrogate-key',
    separator: ' ',
    maxTagBytes: 1_024,
    maxTags: Infinity,
    maxHeaderBytes: 16_384,
    safe: VISIBLE,
    controlHeader: 'surrogate-control',
  },
  cloudflare: {
    vendor: 'cloudflare',
    tagHeader: 'cache-tag',
    separator: ',',
    maxTagBytes: 1_024,
    maxTags: Infinity,
    maxHeaderBytes: 16_384,
    safe: VISIBLE,
    controlHeader: 'cloudflare-cdn-cache-control',
  },
  varnish: {
    vendor: 'varnish',
    tagHeader: 'xkey',
    separator: ' ',
    maxTagBytes: 1_024,
    maxTags: Infinity,
    maxHeaderBytes: 8_000,
    safe: VISIBLE,
    controlHeader: 'surrogate-control',
  },
  akamai: {
    vendor: 'akamai',
    tagHeader: 'edge-cache-tag',
    separator: ',',
    maxTagBytes: 128,
    maxTags: 128,
    maxHeaderBytes: 8_000,
    safe: AKAMAI,
    controlHeader: 'akamai-cache-control',
  },
}
