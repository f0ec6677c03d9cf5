import type { Clock } from '../clock.js'
import { systemClock } from '../clock.js'
import { invalidOption } from '../errors.js'
import type { Bus } from '../bus/bus.js'
import type { Store } from '../stores/store.js'
import type { CacheOptions } from '../types/options.js'
import { type Duration, toMs } from '../util/duration.js'
import type { GuardOptions } from './tiers/store-guard.js'
import type { Serializer } from './serializer.js'
import { richJson } from './serializer.js'
import { checkLogger, type Logger } from '../warnings.js'

/** Options after defaults and checks: what the engine runs on. */
export interface ResolvedOptions {
  namespace: string
  ttlMs: number
  graceMs: number
  jitter: number
  maxLifetimeMs: number
  enabled: boolean
  l1:
    | {
        maxEntries: number
        maxBytes: number | undefined
        sizeOf: ((value: unknown) => number) | undefined
        clone: boolean
      }
    | false
  store: Store | undefined
  bus: Bus | undefined
  guard: GuardOptions
  strict: boolean
  maxReplayTags: number
  serializer: Serializer
  clock: Clock
  maxTags: number
  strictDependencies: boolean
  maxEntryBytes: number | undefined
  logger: Logger | undefined
}

const KNOWN = new Set([
  'namespace',
  'ttl',
  'l1',
  'store',
  'bus',
  'storeTimeout',
  'breaker',
  'strict',
  'maxReplayTags',
  'grace',
  'jitter',
  'maxLifetime',
  'enabled',
  'serializer',
  'clock',
  'maxTags',
  'strictDependencies',
  'maxEntryBytes',
  'logger',
])
const L1_KNOWN = new Set(['maxEntries', 'maxBytes', 'sizeOf', 'clone'])
const NAMESPACE_PATTERN = /^[A-Za-z0-9_.-]+$/

/** Applies defaults and checks every option, throwing a `CacheError` that names the bad one. */
export function resolveOptions(options: CacheOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null)
    throw invalidOption('options', 'must be an object')
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw invalidOption(key, 'is not an option of createCache')
  }
  const namespace = options.namespace ?? 'cg'
  checkNamespace(namespace, 'namespace')
  const maxLifetimeMs = toMs(options.maxLifetime ?? '1d', 'maxLifetime')
  if (maxLifetimeMs === 0 || maxLifetimeMs === Infinity) {
    throw invalidOption('maxLifetime', 'must be a finite duration > 0')
  }
  const ttlMs = Math.min(toMs(options.ttl ?? '5m', 'ttl'), maxLifetimeMs)
  const graceMs = toMs(options.grace ?? 0, 'grace')
  if (graceMs === Infinity) throw invalidOption('grace', 'must be finite')
  const jitter = options.jitter ?? 0
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1)) {
    throw invalidOption('jitter', `must be a number from 0 to 1, got ${String(jitter)}`)
  }
  const store = options.store
  if (store !== undefined && !isStore(store)) {
    throw invalidOption('store', 'must implement read(), write(), invalidate() and close()')
  }
  // The store forgets records older than its window: an entry must not outlive them.
  const keptMs = store?.keepRecordsMs
  if (keptMs !== undefined && maxLifetimeMs + graceMs > keptMs) {
    throw invalidOption(
      'maxLifetime',
      `with grace (${maxLifetimeMs + graceMs} ms) must not exceed the store's keepRecords (${keptMs} ms)`,
    )
  }
  const bus = options.bus
  if (bus !== undefined) {
    if (typeof bus?.connect !== 'function' || typeof bus.maxSilenceMs !== 'number') {
      throw invalidOption('bus', 'must be a bus, e.g. redisBus() from cachegraph/redis')
    }
    if (store === undefined) {
      throw invalidOption('bus', "needs a shared `store`: a bus carries the store's invalidations")
    }
  }
  const guard = resolveGuard(options)
  const maxReplayTags = options.maxReplayTags ?? 10_000
  checkPositiveInteger(maxReplayTags, 'maxReplayTags')
  if (options.strict !== undefined && typeof options.strict !== 'boolean') {
    throw invalidOption('strict', 'must be a boolean')
  }
  const l1 = resolveL1(options.l1, store)
  const serializer = options.serializer ?? richJson
  if (typeof serializer?.serialize !== 'function' || typeof serializer.deserialize !== 'function') {
    throw invalidOption('serializer', 'must have serialize() and deserialize()')
  }
  const clock = options.clock ?? systemClock
  if (typeof clock?.now !== 'function') throw invalidOption('clock', 'must have a now() method')
  if (options.maxEntryBytes !== undefined)
    checkPositiveInteger(options.maxEntryBytes, 'maxEntryBytes')
  const maxTags = options.maxTags ?? 100_000
  checkPositiveInteger(maxTags, 'maxTags')
  const envEnabled = process.env.CACHEGRAPH_ENABLED
  const enabled = (options.enabled ?? true) && !/^(false|0|no|off)$/i.test(envEnabled ?? '')
  if (options.enabled !== undefined && typeof options.enabled !== 'boolean') {
    throw invalidOption('enabled', 'must be a boolean')
  }
  return {
    namespace,
    ttlMs,
    graceMs,
    jitter,
    maxLifetimeMs,
    enabled,
    l1,
    store,
    bus,
    guard,
    strict: options.strict === true,
    maxReplayTags,
    serializer,
    clock,
    maxTags,
    strictDependencies: options.strictDependencies === true,
    maxEntryBytes: options.maxEntryBytes,
    logger: checkLogger(options.logger),
  }
}

function resolveL1(l1: CacheOptions['l1'], store: Store | undefined): ResolvedOptions['l1'] {
  if (l1 === false) {
    if (store === undefined)
      throw invalidOption('l1', 'can be false only with a `store` (nothing would be cached)')
    return false
  }
  if (l1 !== undefined && (typeof l1 !== 'object' || l1 === null)) {
    throw invalidOption('l1', 'must be an object or false')
  }
  const opts = l1 ?? {}
  for (const key of Object.keys(opts)) {
    if (!L1_KNOWN.has(key)) throw invalidOption(`l1.${key}`, 'is not an option of the L1 tier')
  }
  const maxEntries = opts.maxEntries ?? 10_000
  checkPositiveInteger(maxEntries, 'l1.maxEntries')
  if (opts.maxBytes !== undefined) checkPositiveInteger(opts.maxBytes, 'l1.maxBytes')
  if (opts.sizeOf !== undefined && typeof opts.sizeOf !== 'function') {
    throw invalidOption('l1.sizeOf', 'must be a function of the value returning bytes')
  }
  return { maxEntries, maxBytes: opts.maxBytes, sizeOf: opts.sizeOf, clone: opts.clone === true }
}

const TIMEOUT_DEFAULTS = { read: '50ms', write: '1s', invalidate: '1s', scan: '5s' } as const

function resolveGuard(options: CacheOptions): GuardOptions {
  const given = options.storeTimeout
  const perOperation =
    typeof given === 'object' && given !== null ? given : given === undefined ? {} : undefined
  if (perOperation !== undefined) {
    for (const key of Object.keys(perOperation)) {
      if (!['read', 'write', 'invalidate'].includes(key)) {
        throw invalidOption(`storeTimeout.${key}`, 'is not an operation (read, write, invalidate)')
      }
    }
  }
  const timeout = (operation: keyof typeof TIMEOUT_DEFAULTS): number => {
    const value =
      perOperation === undefined
        ? given
        : (perOperation as Record<string, Duration | undefined>)[operation]
    const name = perOperation === undefined ? 'storeTimeout' : `storeTimeout.${operation}`
    const ms = toMs(value ?? TIMEOUT_DEFAULTS[operation], name)
    if (ms === 0) throw invalidOption(name, 'must be above 0 (Infinity: no limit)')
    return ms
  }
  const timeouts = {
    read: timeout('read'),
    write: timeout('write'),
    invalidate: timeout('invalidate'),
    scan: toMs(TIMEOUT_DEFAULTS.scan, 'storeTimeout'),
  }
  const breaker = options.breaker ?? {}
  if (breaker === false) return { timeouts, failures: undefined, cooldownMs: 0 }
  if (typeof breaker !== 'object' || breaker === null) {
    throw invalidOption('breaker', 'must be false or { failures, cooldown }')
  }
  for (const key of Object.keys(breaker)) {
    if (key !== 'failures' && key !== 'cooldown') {
      throw invalidOption(`breaker.${key}`, 'is not an option of the breaker')
    }
  }
  const failures = breaker.failures ?? 5
  checkPositiveInteger(failures, 'breaker.failures')
  const cooldownMs = toMs(breaker.cooldown ?? '1s', 'breaker.cooldown')
  if (cooldownMs === Infinity) throw invalidOption('breaker.cooldown', 'must be finite')
  return { timeouts, failures, cooldownMs }
}

/** Throws unless `name` is a valid namespace segment. */
export function checkNamespace(name: unknown, option: string): asserts name is string {
  if (typeof name !== 'string' || !NAMESPACE_PATTERN.test(name)) {
    throw invalidOption(
      option,
      `must be letters, digits, '_', '-' or '.', got ${JSON.stringify(name)}`,
    )
  }
}

/**
 * Throws unless `value` is a valid `earlyRefresh`: a fraction of the ttl in (0, 1). Checked when
 * a call or a memoized function is made, not only when a hit is late enough to use it.
 */
export function checkEarlyRefresh(value: unknown): void {
  if (typeof value !== 'number' || !(value > 0 && value < 1)) {
    throw invalidOption(
      'earlyRefresh',
      `must be a number between 0 and 1 (excluded), got ${String(value)}`,
    )
  }
}

function checkPositiveInteger(value: unknown, option: string): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw invalidOption(option, `must be a positive integer, got ${String(value)}`)
  }
}

function isStore(value: unknown): value is Store {
  const store = value as Record<string, unknown>
  return ['read', 'write', 'invalidate', 'close'].every(
    (method) => typeof store?.[method] === 'function',
  )
}
