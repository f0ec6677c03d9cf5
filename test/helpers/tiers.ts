import { type CacheOptions, memoryStore } from '../../src/index.js'

/** Tier set-ups that engine behaviour must hold on. Shared stores join this list as they land. */
export const WITH_AND_WITHOUT_STORE: [name: string, tiers: () => CacheOptions][] = [
  ['L1 only', () => ({})],
  ['L1 + shared store', () => ({ store: memoryStore() })],
]

/** The above, plus a shared store without L1. */
export const ALL_TIERS: [name: string, tiers: () => CacheOptions][] = [
  ...WITH_AND_WITHOUT_STORE,
  ['shared store without L1', () => ({ store: memoryStore(), l1: false })],
]
