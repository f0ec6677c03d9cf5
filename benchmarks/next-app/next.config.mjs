// The page both Next.js cache handlers are measured on (benchmarks/next.js): BENCH_NEXT_HANDLER
// picks cachegraph or @fortedigital/nextjs-cache-handler at `next start`.
import { fileURLToPath } from 'node:url'

const here = (file) => fileURLToPath(new URL(file, import.meta.url))
const handler = process.env.BENCH_NEXT_HANDLER ?? 'cachegraph'

/** @type {import('next').NextConfig} */
export default {
  cacheHandler: here(`./${handler}-handler.mjs`),
  // No per-instance memory copy: with it, no instance could see another's revalidation.
  cacheMaxMemorySize: 0,
  serverExternalPackages: ['ioredis', 'cachegraph', 'redis', '@fortedigital/nextjs-cache-handler'],
  turbopack: { root: here('..') },
  poweredByHeader: false,
}
