import express from 'express'
import express4 from 'express4'

/** The Express versions the adapter supports: every Express test runs on each. */
export const expressVersions = [
  { name: 'express 5', express },
  { name: 'express 4', express: express4 },
] as const

export type ExpressModule = typeof express
