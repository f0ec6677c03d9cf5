export { postgresInvalidation } from './listener.js'
export type { PostgresInvalidation } from './listener.js'
export type { PostgresInvalidationEventName, PostgresInvalidationEvents } from './events.js'
export type {
  CaptureMode,
  InvalidationTarget,
  PostgresInvalidationOptions,
  TableMapping,
} from './options.js'
