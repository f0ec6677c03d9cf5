export { createInvalidationService } from './service.js'
export type { InvalidationService, InvalidationServiceOptions } from './service.js'
export { listen } from './server.js'
export type { ListeningServer, ListenOptions } from './server.js'
