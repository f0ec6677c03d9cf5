import { createHash } from 'node:crypto'

import { CacheError, invalidOption } from '../errors.js'

/** Argument parts longer than this are replaced by their hash, so keys stay short. */
const MAX_READABLE = 200

/**
 * The cache key of a memoized call: `name:` followed by a stable, readable encoding of `args`,
 * e.g. `getUser:["42"]` or `search:[{"limit":10,"q":"cats"}]`.
 *
 * The encoding is JSON-like. Strings are always JSON-quoted, so the tags of non-JSON values are
 * bare words no string can produce: `1n` (BigInt), `NaN`, `Infinity`, `-Infinity`, `undefined`,
 * `Date(2024-01-01T00:00:00.000Z)` (`Date(NaN)` when invalid), `Map{key:value,...}`,
 * `Set[...]`, `Uint8Array(<base64url bytes>)` (every typed array by its type and bytes; a
 * `Buffer` is a `Uint8Array`), `ArrayBuffer(...)`, `DataView(...)`, and `JSON(...)` around the
 * `toJSON()` result of a class instance. Equal values give equal keys:
 * - object keys are sorted (own enumerable string keys; a property set to `undefined` is absent),
 *   Map entries are sorted by their encoded key, Set elements by their encoding;
 * - `-0` is `0`, `NaN` is `NaN`; arrays keep their order (a hole is `undefined`);
 * - a trailing `undefined` argument is absent: `f(1)` and `f(1, undefined)` share a key, and
 *   `f(undefined)` is `f()`. An `undefined` before a defined argument is kept: `f(undefined, 1)`.
 *
 * An argument part longer than 200 characters becomes `#` + its SHA-256 (base64url), so a key
 * is never longer than `name` + 45 characters. Readable parts start with `[`, hashed ones with
 * `#`: the two never collide.
 *
 * @throws CacheError `E_INVALID_OPTION` if `name` is not a non-empty string; `E_INVALID_VALUE`
 * if an argument holds a function, a symbol, a cycle or a class instance without `toJSON()`:
 * such a value has no stable identity to key by. The message names the argument (from 1).
 */
export function argsKey(name: string, args: readonly unknown[]): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw invalidOption('name', 'must be a non-empty string')
  }
  if (!Array.isArray(args)) {
    throw new CacheError('E_INVALID_VALUE', `cachegraph: the arguments of ${name} must be an array`)
  }
  let end = args.length
  while (end > 0 && args[end - 1] === undefined) end--
  // Built by concatenation: the common call has a few primitives, and this path allocates
  // nothing but the key itself.
  let part = '['
  for (let i = 0; i < end; i++) {
    if (i > 0) part += ','
    try {
      part += encode(args[i])
    } catch (error) {
      if (!(error instanceof Unkeyable)) throw error
      const where = error.path === '' ? '' : ` at ${error.path}`
      throw new CacheError(
        'E_INVALID_VALUE',
        `cachegraph: argument ${i + 1} of ${name} cannot be part of a cache key (${error.reason}${where})`,
      )
    }
  }
  part += ']'
  if (part.length > MAX_READABLE) {
    part = '#' + createHash('sha256').update(part).digest('base64url')
  }
  return `${name}:${part}`
}

/** Internal: a value that cannot be keyed; `path` grows as the error unwinds to the argument. */
class Unkeyable extends Error {
  path = ''
  constructor(readonly reason: string) {
    super(reason)
  }
}

/** Prefixes `segment` to the path of an {@link Unkeyable}; other errors pass through as thrown. */
function within(error: unknown, segment: string): unknown {
  if (error instanceof Unkeyable) error.path = segment + error.path
  return error
}

function encode(value: unknown, ancestors?: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value)
    case 'number':
      // String(-0) is '0'; NaN, Infinity and -Infinity come out as bare words.
      return String(value)
    case 'boolean':
      return value ? 'true' : 'false'
    case 'bigint':
      return `${value}n`
    case 'undefined':
      return 'undefined'
    case 'object':
      // The set of ancestors is made only once an argument holds an object.
      return value === null ? 'null' : encodeObject(value, ancestors ?? new Set())
    default:
      throw new Unkeyable(typeof value) // function or symbol
  }
}

function encodeObject(value: object, ancestors: Set<object>): string {
  if (value instanceof Date) {
    const time = value.getTime()
    return `Date(${Number.isNaN(time) ? 'NaN' : value.toISOString()})`
  }
  if (ArrayBuffer.isView(value)) return `${viewName(value)}(${base64url(value)})`
  if (value instanceof ArrayBuffer) return `ArrayBuffer(${base64url(new Uint8Array(value))})`
  // Only the objects on the path from the argument count: a value seen twice is not a cycle.
  if (ancestors.has(value)) throw new Unkeyable('cycle')
  ancestors.add(value)
  try {
    if (Array.isArray(value)) return encodeArray(value, ancestors)
    if (value instanceof Map) return encodeMap(value, ancestors)
    if (value instanceof Set) return encodeSet(value, ancestors)
    const proto = Object.getPrototypeOf(value) as unknown
    if (proto === Object.prototype || proto === null) {
      return encodePlain(value as Record<string, unknown>, ancestors)
    }
    const toJSON = (value as { toJSON?: unknown }).toJSON
    if (typeof toJSON === 'function') {
      try {
        return `JSON(${encode(toJSON.call(value), ancestors)})`
      } catch (error) {
        throw within(error, '.toJSON()')
      }
    }
    throw new Unkeyable(`instance of ${className(value)}`)
  } finally {
    ancestors.delete(value)
  }
}

function encodeArray(array: readonly unknown[], ancestors: Set<object>): string {
  let out = '['
  let i = 0
  try {
    for (; i < array.length; i++) {
      if (i > 0) out += ','
      out += encode(array[i], ancestors)
    }
  } catch (error) {
    throw within(error, `[${i}]`)
  }
  return out + ']'
}

function encodePlain(record: Record<string, unknown>, ancestors: Set<object>): string {
  let out = '{'
  for (const key of Object.keys(record).sort()) {
    const item = record[key]
    if (item === undefined) continue
    try {
      out += `${out.length > 1 ? ',' : ''}${JSON.stringify(key)}:${encode(item, ancestors)}`
    } catch (error) {
      throw within(error, /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`)
    }
  }
  return out + '}'
}

function encodeMap(map: ReadonlyMap<unknown, unknown>, ancestors: Set<object>): string {
  const entries: [string, string][] = []
  for (const [key, item] of map) {
    let encodedKey: string
    try {
      encodedKey = encode(key, ancestors)
    } catch (error) {
      throw within(error, '{a Map key}')
    }
    try {
      entries.push([encodedKey, encode(item, ancestors)])
    } catch (error) {
      throw within(error, `.get(${encodedKey})`)
    }
  }
  // By key, then by value: two distinct object keys may encode alike.
  entries.sort(([ka, va], [kb, vb]) => compare(ka, kb) || compare(va, vb))
  return `Map{${entries.map(([key, item]) => `${key}:${item}`).join(',')}}`
}

function encodeSet(set: ReadonlySet<unknown>, ancestors: Set<object>): string {
  const items: string[] = []
  try {
    for (const item of set) items.push(encode(item, ancestors))
  } catch (error) {
    throw within(error, '{a Set element}')
  }
  return `Set[${items.sort().join(',')}]`
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

// %TypedArray%.prototype[Symbol.toStringTag] is a getter that reads the internal type name: a
// Buffer is a 'Uint8Array', and a subclass cannot pass for another type. Not a typed array (a
// DataView): undefined.
const typedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object

function viewName(view: ArrayBufferView): string {
  const name = Reflect.get(typedArrayPrototype, Symbol.toStringTag, view) as unknown
  return typeof name === 'string' ? name : 'DataView'
}

function base64url(view: ArrayBufferView): string {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64url')
}

function className(value: object): string {
  const ctor = (value as { constructor?: unknown }).constructor
  const name = typeof ctor === 'function' ? ctor.name : ''
  return name === '' ? 'a class' : name
}
