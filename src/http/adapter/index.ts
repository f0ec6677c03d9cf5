/** What every framework adapter shares: setup, route registry, Node and fetch conversions. */
export { capturedFetch, fetchExchange } from './fetch.js'
export { type HeldResponse, type Hold, hold } from './node-hold.js'
export { fetchRequestOf, nodeAnswer, type NodeAnswer, underPrefix } from './node.js'
export { checkRoute, routeOf } from './routes.js'
export {
  type AdapterCore,
  type AdapterLog,
  type AdapterOptions,
  consoleLog,
  createAdapterCore,
} from './setup.js'
