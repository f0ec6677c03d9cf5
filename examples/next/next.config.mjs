import { fileURLToPath } from 'node:url'

const here = (file) => fileURLToPath(new URL(file, import.meta.url))

/** @type {import('next').NextConfig} */
export default {
  // Where the build goes: the tests keep theirs in a cache directory (NEXT_DIST_DIR).
  distDir: process.env.NEXT_DIST_DIR ?? '.next',
  experimental: { useCache: true },
  cacheHandler: here('./cache-handler.mjs'),
  cacheHandlers: {
    default: here('./use-cache-handler.mjs'),
    remote: here('./use-cache-handler.mjs'),
  },
  // Next's own per-instance memory copy, which no other instance could invalidate: off.
  cacheMaxMemorySize: 0,
  serverExternalPackages: ['ioredis'],
  poweredByHeader: false,
}
