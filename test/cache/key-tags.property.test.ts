import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import {
  inputKeyTags,
  keyTag,
  l1KeyOf,
  l1KeyOfKeyTag,
  type Namespace,
} from '../../src/cache/model/namespace.js'

/** A namespace as `createCache` and `namespace()` make them. */
function namespaceOf(root: string, children: readonly string[]): Namespace {
  const path = [root, ...children].join(':')
  return {
    path,
    prefix: `${path}::`,
    l1Prefix: children.length === 0 ? '' : `\0${path}\0`,
    tags: [],
  }
}

const name = fc.stringMatching(/^[A-Za-z0-9_.-]{1,8}$/)
// Keys may hold anything but a leading NUL: colons, `::`, spaces.
const key = fc
  .string({ unit: fc.constantFrom('a', ':', '::', ' ', '@', 'k', '/', '\0'), minLength: 1 })
  .filter((k) => k.charCodeAt(0) !== 0)

describe('key tags and L1 keys', () => {
  it('a key tag names the L1 key of its own entry, in any namespace (1,000 runs)', () => {
    fc.assert(
      fc.property(name, fc.array(name, { maxLength: 3 }), key, (root, children, k) => {
        const ns = namespaceOf(root, children)
        expect(l1KeyOfKeyTag(keyTag(ns.prefix + k), root)).toBe(l1KeyOf(ns, k))
      }),
      { numRuns: 1_000 },
    )
  })

  it('an entry’s inputs are its key tags but its own', () => {
    const root = namespaceOf('cg', [])
    const child = namespaceOf('cg', ['users'])
    const own = keyTag(child.prefix + 'page')
    const tags = ['t', own, keyTag(root.prefix + 'user:1'), '@ns:cg', keyTag(child.prefix + 'x')]
    expect(inputKeyTags(tags, l1KeyOf(child, 'page'), 'cg')).toEqual([
      keyTag(root.prefix + 'user:1'),
      keyTag(child.prefix + 'x'),
    ])
    expect(inputKeyTags(['t', own], l1KeyOf(child, 'page'), 'cg')).toBeUndefined()
    // Another root's key, under the same store prefix, is an input too.
    expect(inputKeyTags([own, '@key:other::page'], l1KeyOf(child, 'page'), 'cg')).toEqual([
      '@key:other::page',
    ])
  })
})
