export { storeConformance } from './conformance.js'
export type { ConformanceRunner, ConformanceTarget } from './conformance.js'
export { FakeClock, fakeClock } from './fake-clock.js'
