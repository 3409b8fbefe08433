// tributary/testing: the broker-free test driver for topologies. The public API, and nothing else.

// Driver
export { TestDriver, createTestDriver } from './driver.js'
export type { TestDriverOptions, LogLevel } from './options.js'
export type {
  DeadLetter,
  InputHeaders,
  RawInput,
  ReadOptions,
  SettleOptions,
  TestInput,
  TestRecord,
} from './types.js'

// Errors
export { SettleTimeoutError } from './errors.js'

// Time
export { ManualClock } from '../runtime/clock.js'
export type { Clock } from '../runtime/clock.js'
