/** What every framework adapter shares: setup, route registry, the request flow, conversions. */
export { BodyKinds, capturedFetch, fetchExchange, replayFetch } from './fetch.js'
export { flows, type LookupOutcome, RequestFlow } from './flow.js'
export { type HeldResponse, type Hold, hold } from './node-hold.js'
export { adminAnswer, fetchRequestOf, nodeAnswer, type NodeAnswer, underPrefix } from './node.js'
export { checkRoute, routeOf } from './routes.js'
export {
  type AdapterCore,
  type AdapterLog,
  type AdapterOptions,
  consoleLog,
  createAdapterCore,
} from './setup.js'
