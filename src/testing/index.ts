export { storeConformance } from './conformance.js'
export type { ConformanceRunner, ConformanceTarget } from './conformance.js'
export { FakeClock, fakeClock } from './fake-clock.js'
export { faultyStore, InjectedFaultError } from './faulty-store.js'
export type {
  Fault,
  FaultCounts,
  FaultKind,
  FaultyStore,
  FaultyStoreOptions,
  StoreFaults,
  StoreOperation,
} from './faulty-store.js'
