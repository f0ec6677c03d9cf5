/**
 * Compiles a Redis-style glob (`*`, `?`, `[abc]`, `[^a]`, `[a-z]`, `\\` escapes) to a RegExp, so
 * the memory store and the L1 match keys exactly as Redis `SCAN MATCH` does.
 */
export function globToRegExp(glob: string): RegExp {
  let source = '^'
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string
    if (c === '\\' && i + 1 < glob.length) source += escape(glob[++i] as string)
    else if (c === '*') source += '[\\s\\S]*'
    else if (c === '?') source += '[\\s\\S]'
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1)
      if (end === -1) {
        source += '\\['
        continue
      }
      let body = glob.slice(i + 1, end)
      const negate = body.startsWith('^')
      if (negate) body = body.slice(1)
      source += `[${negate ? '^' : ''}${body.replace(/[\]\\]/g, '\\$&')}]`
      i = end
    } else source += escape(c)
  }
  return new RegExp(`${source}$`)
}

const escape = (c: string): string => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
