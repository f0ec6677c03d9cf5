import { CacheError } from '../errors.js'

/** Turns values into strings for shared tiers and back. Pluggable through `createCache({ serializer })`. */
export interface Serializer {
  serialize(value: unknown): string
  deserialize(text: string): unknown
}

const MARK = '$cg'
const TYPED_ARRAYS = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
} as const
type TypedArrayName = keyof typeof TYPED_ARRAYS

/**
 * The default serializer: JSON, plus `Date`, `Map`, `Set`, `BigInt`, typed arrays, `undefined`
 * inside objects and arrays, and non-finite numbers. Special values are written as
 * `{"$cg": type, "v": ...}` and read back from a fixed list of types: cached data can never name
 * a class to instantiate. Class instances come back as plain objects.
 *
 * A value with nothing special is stored as plain JSON behind a `j` prefix and read back with a
 * bare `JSON.parse` (no reviver), which keeps the common read path at native speed.
 */
export const richJson: Serializer = {
  serialize(value) {
    // The common value holds nothing special: one native `JSON.stringify` with no replacer, which
    // V8 runs on its fast path (a replacer function costs a call per key, ~4× the time for 1 KB).
    return isPlainJson(value, 0) ? `j${JSON.stringify(value)}` : taggedJson(value)
  },
  deserialize(text) {
    const body = text.slice(1)
    if (text.charCodeAt(0) === 106 /* j */) return JSON.parse(body) as unknown
    let sawUndefined = false
    const value: unknown = JSON.parse(body, (_key, raw: unknown) => {
      const decoded = decodeSpecial(raw)
      if (decoded === UNDEFINED) sawUndefined = true
      return decoded
    })
    // A reviver that returns `undefined` deletes the property, so `undefined` travels as a
    // sentinel and is put back in place afterwards.
    return sawUndefined ? restoreUndefined(value) : value
  },
}

/** Nesting past which a value is left to {@link taggedJson} (which also reports cycles). */
const PLAIN_DEPTH = 64

/**
 * Whether `JSON.stringify(value)` alone writes what {@link taggedJson} would: strings, booleans,
 * finite numbers, null, arrays and plain objects (prototype `Object.prototype` or null) of
 * those, with no `toJSON` and no key named like the marker. Anything else — `undefined`, a
 * `Date`, `Map`, class instance, `NaN` — is the tagged path's to decide.
 */
function isPlainJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true
    case 'number':
      return Number.isFinite(value)
    case 'object': {
      if (value === null) return true
      if (depth >= PLAIN_DEPTH) return false
      if (Array.isArray(value)) {
        if (Object.getPrototypeOf(value) !== Array.prototype) return false
        for (let i = 0; i < value.length; i++) {
          if (!isPlainJson(value[i], depth + 1)) return false
        }
        return true
      }
      const proto: unknown = Object.getPrototypeOf(value)
      if (proto !== Object.prototype && proto !== null) return false
      const record = value as Record<string, unknown>
      if (typeof record.toJSON === 'function') return false
      for (const key in record) {
        if (key === MARK || !isPlainJson(record[key], depth + 1)) return false
      }
      return true
    }
    default:
      return false
  }
}

/** {@link richJson}'s full encoding: special values tagged by a replacer. */
export function taggedJson(value: unknown): string {
  let special = false
  const text = JSON.stringify(
    value,
    function (this: Record<string, unknown>, key, encoded: unknown) {
      const raw = this[key]
      const tagged = encodeSpecial(raw, encoded)
      if (tagged !== NOT_SPECIAL) special = true
      return tagged === NOT_SPECIAL ? encoded : tagged
    },
  ) as string | undefined
  if (text === undefined) {
    throw new CacheError(
      'E_SERIALIZE',
      `cachegraph: cannot serialize a value of type ${typeof value}`,
    )
  }
  return (special ? 't' : 'j') + text
}

const NOT_SPECIAL = Symbol('not special')
const UNDEFINED = Object.freeze({ undefined: true })

function restoreUndefined(value: unknown): unknown {
  if (value === UNDEFINED) return undefined
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return value
  if (value instanceof Map) {
    const entries = [...value.entries()]
    value.clear()
    for (const [k, v] of entries) value.set(restoreUndefined(k), restoreUndefined(v))
  } else if (value instanceof Set) {
    const items = [...value.values()]
    value.clear()
    for (const item of items) value.add(restoreUndefined(item))
  } else if (!(value instanceof Date)) {
    const record = value as Record<string, unknown>
    for (const key of Object.keys(record)) record[key] = restoreUndefined(record[key])
  }
  return value
}

function encodeSpecial(raw: unknown, encoded: unknown): unknown {
  switch (typeof raw) {
    case 'undefined':
      return { [MARK]: 'u' }
    case 'bigint':
      return { [MARK]: 'n', v: raw.toString() }
    case 'number':
      return Number.isFinite(raw) ? NOT_SPECIAL : { [MARK]: 'f', v: String(raw) }
    case 'object': {
      if (raw === null) return NOT_SPECIAL
      if (raw instanceof Date) return { [MARK]: 'Date', v: raw.getTime() }
      if (raw instanceof Map) return { [MARK]: 'Map', v: [...raw.entries()] }
      if (raw instanceof Set) return { [MARK]: 'Set', v: [...raw.values()] }
      if (ArrayBuffer.isView(raw) && !(raw instanceof DataView)) {
        const name = typedArrayName(raw)
        const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)
        return { [MARK]: name, v: bytes.toString('base64') }
      }
      // A plain object that happens to have our marker key is wrapped so it reads back intact.
      if (!Array.isArray(raw) && Object.hasOwn(raw, MARK))
        return { [MARK]: 'o', v: Object.entries(encoded as object) }
      return NOT_SPECIAL
    }
    default:
      return NOT_SPECIAL
  }
}

function typedArrayName(view: ArrayBufferView): TypedArrayName {
  for (const name of Object.keys(TYPED_ARRAYS) as TypedArrayName[]) {
    if (view instanceof TYPED_ARRAYS[name]) return name
  }
  return 'Uint8Array'
}

function decodeSpecial(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value
  const record = value as Record<string, unknown>
  const type = record[MARK]
  if (typeof type !== 'string') return value
  const v = record.v
  switch (type) {
    case 'u':
      return UNDEFINED
    case 'n':
      return BigInt(v as string)
    case 'f':
      return Number(v)
    case 'Date':
      return new Date(v as number)
    case 'Map':
      return new Map(v as [unknown, unknown][])
    case 'Set':
      return new Set(v as unknown[])
    case 'o':
      return Object.fromEntries(v as [string, unknown][])
    default: {
      if (!Object.hasOwn(TYPED_ARRAYS, type)) return value
      const bytes = Buffer.from(v as string, 'base64')
      const Ctor = TYPED_ARRAYS[type as TypedArrayName]
      const copy = new Uint8Array(bytes).buffer
      return new Ctor(copy, 0, copy.byteLength / Ctor.BYTES_PER_ELEMENT)
    }
  }
}
