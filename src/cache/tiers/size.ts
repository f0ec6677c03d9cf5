/**
 * A cheap estimate of a value's memory footprint in bytes, for `l1.maxBytes`. It walks at most
 * `budget` nodes: a precise count is not worth a slow write path.
 */
export function estimateSize(value: unknown): number {
  let budget = 1_000
  const walk = (v: unknown, depth: number): number => {
    if (--budget < 0 || depth > 8) return 8
    switch (typeof v) {
      case 'string':
        return 16 + v.length * 2
      case 'number':
      case 'boolean':
      case 'undefined':
        return 8
      case 'bigint':
        return 16
      case 'object': {
        if (v === null) return 8
        if (ArrayBuffer.isView(v)) return 32 + v.byteLength
        if (v instanceof Date) return 32
        let size = 32
        if (v instanceof Map)
          for (const [k, x] of v) size += walk(k, depth + 1) + walk(x, depth + 1)
        else if (v instanceof Set) for (const x of v) size += walk(x, depth + 1)
        else if (Array.isArray(v)) for (const x of v) size += walk(x, depth + 1)
        else
          for (const k in v)
            size += 16 + k.length * 2 + walk((v as Record<string, unknown>)[k], depth + 1)
        return size
      }
      default:
        return 8
    }
  }
  return walk(value, 0)
}
