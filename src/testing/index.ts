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

// Faults: fail the next call(s) of an API of the embedded broker (`driver.brokerUrl`) with a Kafka error
export { injectFault } from '../transport/index.js'
export type { FaultApi, FaultSpec } from '../transport/memory/faults.js'
