/**
 * The dependency frame moved to `src/cache/model/frame.ts`. This re-export keeps the HTTP layer's
 * import working until it reads dependencies through the public API.
 */
export { currentFrame } from '../cache/model/frame.js'
export type { LoadFrame } from '../cache/model/frame.js'
