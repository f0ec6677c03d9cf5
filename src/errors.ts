/**
 * Stable error codes. They are part of the public API: match on `error.code`, never on messages.
 */
export type CacheErrorCode =
  | 'E_INVALID_OPTION'
  | 'E_INVALID_KEY'
  | 'E_INVALID_TAG'
  | 'E_INVALID_VALUE'
  | 'E_SERIALIZE'
  | 'E_DESERIALIZE'
  | 'E_STORE'
  | 'E_CLOSED'
  | 'E_TIMEOUT'
  | 'E_ENTRY_TOO_LARGE'
  | 'E_TOO_LARGE'
  | 'E_INVALIDATION_NOT_RECORDED'
  | 'E_NO_SESSION'
  | 'E_NO_DEPENDENCY_CONTEXT'
  | 'E_LOOP_DETECTED'
  | 'E_PURGE_FAILED'
  /** A key pattern (`clear({ pattern })`, `keys({ pattern })`) that cannot be a Redis glob. */
  | 'E_INVALID_PATTERN'

const brand = Symbol.for('cachegraph.CacheError')

/**
 * The one error type of cachegraph. `code` is stable; `cause` keeps the original error.
 * Loader errors are never wrapped: they reach callers exactly as thrown.
 */
export class CacheError extends Error {
  readonly code: CacheErrorCode
  readonly [brand] = true

  constructor(code: CacheErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'CacheError'
    this.code = code
  }
}

/**
 * True for a {@link CacheError} from any copy of this package (does not rely on `instanceof`,
 * which fails when two copies of cachegraph are installed side by side).
 */
export function isCacheError(error: unknown, code?: CacheErrorCode): error is CacheError {
  if (typeof error !== 'object' || error === null) return false
  if ((error as Record<symbol, unknown>)[brand] !== true) return false
  return code === undefined || (error as CacheError).code === code
}

/** Shorthand for the error every option check throws. */
export function invalidOption(option: string, problem: string): CacheError {
  return new CacheError('E_INVALID_OPTION', `cachegraph: option \`${option}\` ${problem}`)
}
