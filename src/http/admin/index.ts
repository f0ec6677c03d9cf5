export { createAdminHandler } from './handler.js'
export type { AdminHandler } from './handler.js'
export type { AdminOptions, Authorize } from './options.js'
